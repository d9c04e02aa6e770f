// The whole op set. Every op checks its arguments, dispatches to a backend kernel and, when an
// input requires grad, records its backward (written with these same ops, or a fused kernel).
#pragma once

#include "autograd/checkpoint.h"
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/tensor.h"
#include "ops/attention.h"
#include "ops/conv.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/indexing.h"
#include "ops/linalg.h"
#include "ops/loss.h"
#include "ops/mix.h"
#include "ops/nn.h"
#include "ops/pool.h"
#include "ops/reduce.h"
#include "ops/rope.h"
#include "ops/ssm.h"
#include "ops/topk.h"
