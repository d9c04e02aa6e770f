"""Shared helpers for the golden generators in this folder.

Every generator runs where PyTorch is installed (the GPU machine), in float64 on the CPU unless
it says otherwise, and writes small safetensors files under tests/data/. Tensors of one test case
share a prefix: "<case>.<name>", e.g. "gelu.x", "gelu.out", "gelu.gout", "gelu.gx".
"""
import os
import sys

import torch
from safetensors.torch import save_file

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(REPO, "tests", "data")

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def generator(seed):
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed, dtype=torch.float64):
    return torch.randn(tuple(shape), generator=generator(seed), dtype=dtype)


def uniform(*shape, lo, hi, seed, dtype=torch.float64):
    return lo + (hi - lo) * torch.rand(tuple(shape), generator=generator(seed), dtype=dtype)


class Golden:
    """Collects the tensors of many cases and writes them to tests/data/<relative>."""

    def __init__(self, relative):
        self.relative = relative
        self.tensors = {}

    def add(self, case, **tensors):
        for name, t in tensors.items():
            key = f"{case}.{name}"
            assert key not in self.tensors, key
            self.tensors[key] = t.detach().cpu().contiguous().clone()

    def save(self):
        path = os.path.join(DATA, self.relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        save_file(self.tensors, path)
        size = os.path.getsize(path)
        print(f"wrote {path}: {len(self.tensors)} tensors, {size / 1024:.1f} KiB", file=sys.stderr)


def forward_backward(fn, inputs, seed):
    """Runs fn on inputs (tensors that should get gradients have requires_grad set), then
    back-propagates a random upstream gradient. Returns (out, gout, grads)."""
    out = fn(*inputs)
    gout = randn(*out.shape, seed=seed, dtype=out.dtype)
    grads = torch.autograd.grad(out, [t for t in inputs if t.requires_grad], gout)
    return out, gout, grads
