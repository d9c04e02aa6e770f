// The recorded graph: each op that touched a trainable tensor leaves a Node whose edges point
// at the nodes of its inputs. Leaves end in an AccumulateGrad node that adds into .grad.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace vg::autograd {

struct Node;

// Where the gradient of one op input goes: output `input_nr` of `node`.
struct Edge {
  std::shared_ptr<Node> node;
  int input_nr = 0;
};

// Shape, dtype and device of one node output: zeros are made from it when an output of a
// multi-output node receives no gradient, and returned gradients are checked against it.
struct OutputMeta {
  Shape shape;
  DType dtype = DType::F32;
  Device device;
};

struct Node {
  virtual ~Node() = default;

  // Gradients of the outputs in, one gradient per entry of next_edges out (undefined = none).
  virtual std::vector<Tensor> apply(std::vector<Tensor>& grad_outputs) = 0;
  // Frees saved tensors after a backward that did not ask to retain the graph.
  virtual void release() {}

  std::string name;
  std::vector<Edge> next_edges;
  std::vector<OutputMeta> outputs;
  uint64_t sequence_nr = 0;  // creation order; later nodes run first in backward
};

using BackwardFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& grad_outputs)>;

// The node of an ordinary op: its backward is a closure over the tensors it saved.
struct FunctionNode final : Node {
  std::vector<Tensor> apply(std::vector<Tensor>& grad_outputs) override;
  void release() override { backward = nullptr; }
  BackwardFn backward;
};

// The node behind a leaf that requires grad: adds the incoming gradient into leaf->grad.
struct AccumulateGrad final : Node {
  std::vector<Tensor> apply(std::vector<Tensor>& grad_outputs) override;
  std::weak_ptr<TensorImpl> leaf;
};

uint64_t next_sequence_nr();

// The edge through which a gradient reaches tensor t (empty when t needs no gradient).
Edge gradient_edge(const Tensor& t);

}  // namespace vg::autograd
