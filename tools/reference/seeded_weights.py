"""Deterministic weights that the C++ tests can regenerate bit for bit (tests/support/seeded_weights.h).

Each tensor is filled from vg::rand's stream: Philox4x32-10 keyed by a seed, two 32-bit words per
uniform double u = ((hi << 21) ^ (lo >> 11)) / 2^53, the seed being FNV-1a(name) ^ base_seed. The
uniforms are mapped to values in float64 and rounded to float32, so a large model needs no golden
file, only its config and the reference outputs.
"""
import math

import numpy as np

MASK32 = np.uint64(0xFFFFFFFF)


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def philox4x32_10(counters, seed):
    """counters: uint64 array of 64-bit counters (the 128-bit counter is (counter, 0)); returns 4 word arrays."""
    c0 = counters & MASK32
    c1 = counters >> np.uint64(32)
    c2 = np.zeros_like(c0)
    c3 = np.zeros_like(c0)
    k0 = np.uint64(seed & 0xFFFFFFFF)
    k1 = np.uint64((seed >> 32) & 0xFFFFFFFF)
    m0, m1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
    w0, w1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
    for _ in range(10):
        p0 = m0 * c0
        p1 = m1 * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0), (p1 & MASK32), ((p0 >> np.uint64(32)) ^ c3 ^ k1), (p0 & MASK32)
        k0 = (k0 + w0) & MASK32
        k1 = (k1 + w1) & MASK32
    return c0, c1, c2, c3


def uniform(n, seed):
    """n uniforms in [0, 1) as vg::rand(Generator(seed)) draws them (float64)."""
    blocks = (n + 3) // 4
    out = np.empty(blocks * 4, dtype=np.float64)
    chunk = 1 << 20
    for start in range(0, blocks, chunk):
        b = np.arange(start, min(blocks, start + chunk), dtype=np.uint64)
        r0 = philox4x32_10(np.uint64(2) * b, seed)
        r1 = philox4x32_10(np.uint64(2) * b + np.uint64(1), seed)
        words = [r0[0], r0[1], r0[2], r0[3], r1[0], r1[1], r1[2], r1[3]]
        for lane in range(4):
            hi, lo = words[2 * lane], words[2 * lane + 1]
            bits = ((hi << np.uint64(21)) ^ (lo >> np.uint64(11))) & np.uint64((1 << 53) - 1)
            out[(start * 4 + lane):(min(blocks, start + chunk) * 4):4] = bits.astype(np.float64) * (2.0 ** -53)
    return out[:n]


def seeded_tensor(name, shape, kind, base_seed):
    """kind: 'matrix' (std 1/sqrt(fan_in)), 'embedding' (std 1), 'norm' (1 +- 0.2), 'scale' (0.5 +- 0.5)."""
    n = int(np.prod(shape)) if len(shape) else 1
    v = 2.0 * uniform(n, fnv1a64(name) ^ base_seed) - 1.0  # exact: uniform in [-1, 1)
    if kind == "matrix":
        t = v * (math.sqrt(3.0) / math.sqrt(shape[-1]))
    elif kind == "embedding":
        t = v * math.sqrt(3.0)
    elif kind == "norm":
        t = v * 0.2 + 1.0
    elif kind == "scale":
        t = v * 0.5 + 0.5
    else:
        raise ValueError(kind)
    return t.astype(np.float32).reshape(shape)


def kind_of(name, shape):
    if "embed_tokens" in name:
        return "embedding"
    if name.endswith("correct_output_scale"):
        return "scale"
    if len(shape) == 1:
        return "norm"
    return "matrix"
