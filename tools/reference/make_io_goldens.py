"""Safetensors files written by Python's own `safetensors` and `huggingface_hub`, read back by
tests/io/safetensors_test.cpp. The values are simple literals so the C++ test states them
independently.

    python tools/reference/make_io_goldens.py
writes tests/data/io/all_dtypes.safetensors and tests/data/io/sharded/.
"""
import json
import os
import shutil

import torch
from safetensors.torch import save_file

from golden_io import DATA


def all_dtypes():
    tensors = {
        "f32": torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5 - 2.0,
        "f64": torch.tensor([[1.5, -2.25, 1e-300], [3.0, 1e300, -0.0]], dtype=torch.float64),
        "bf16": torch.tensor([1.0, -2.5, 3.140625, 65280.0, -0.0], dtype=torch.bfloat16),
        "f16": torch.tensor([0.5, -1.25, 65504.0, 2.0 ** -14, 2.0 ** -24, -0.0], dtype=torch.float16),
        "i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        "i16": torch.tensor([-32768, 1234, 32767], dtype=torch.int16),
        "i32": torch.tensor([-2 ** 31, 7, 2 ** 31 - 1], dtype=torch.int32),
        "i64": torch.tensor([-2 ** 63, 42, 2 ** 63 - 1], dtype=torch.int64),
        "u8": torch.tensor([[0, 200], [255, 1]], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
        "scalar": torch.tensor(3.5, dtype=torch.float32),
        "rank5": torch.arange(2 * 1 * 3 * 1 * 2, dtype=torch.int32).reshape(2, 1, 3, 1, 2),
    }
    path = os.path.join(DATA, "io", "all_dtypes.safetensors")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file(tensors, path, metadata={"format": "pt", "writer": "make_io_goldens.py"})
    print("wrote", path, os.path.getsize(path), "bytes")


def sharded():
    # Four tensors of 64 float32 each: with a 300-byte shard limit, each shard holds one tensor.
    state = {
        f"model.layers.{i}.weight": torch.arange(64, dtype=torch.float32).reshape(8, 8) + 100 * i for i in range(4)
    }
    out = os.path.join(DATA, "io", "sharded")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    try:
        from huggingface_hub import save_torch_state_dict

        save_torch_state_dict(state, out, max_shard_size=300)
    except ImportError:
        # The same layout by hand: shards plus model.safetensors.index.json.
        weight_map = {}
        names = sorted(state)
        for k, name in enumerate(names):
            shard = f"model-{k + 1:05d}-of-{len(names):05d}.safetensors"
            save_file({name: state[name]}, os.path.join(out, shard), metadata={"format": "pt"})
            weight_map[name] = shard
        with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": 4 * 256}, "weight_map": weight_map}, f, indent=2)
    print("wrote", out, sorted(os.listdir(out)))


if __name__ == "__main__":
    all_dtypes()
    sharded()
