"""Goldens for token sampling (src/vlm/sampling.h): Hugging Face transformers' own logits
processors applied to random float64 rows, in the order generation uses them: repetition
penalty, temperature, top-k, top-p, min-p.

Each case stores
    <case>.logits    f64 [V]   the raw next-token logits
    <case>.previous  i64 [n]   the ids generated so far (with repeats)
    <case>.options   f64 [5]   temperature, top_k, top_p, min_p, repetition_penalty (1/0/1/0/1 = off)
    <case>.out       f64 [V]   the processors' output (removed tokens at -inf)

torch's CPU sort is not stable, so HF's top-p on tied logits would depend on it; the goldens pin
torch.sort to stable=True, which is what torch does on CUDA for large rows (and the order the C++
sampler uses: among equal logits the lower id counts as smaller and is removed first). The script
prints whether the unpinned CPU result differs for the tie cases. Run where transformers is:

    python tools/reference/make_sampling_goldens.py
writes tests/data/vlm/sampling.safetensors.
"""
import sys

import torch
import transformers
from transformers import (MinPLogitsWarper, RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper,
                          TopKLogitsWarper, TopPLogitsWarper)

from golden_io import Golden, generator, randn

_torch_sort = torch.sort


def _stable_sort(*args, **kwargs):
    kwargs["stable"] = True
    return _torch_sort(*args, **kwargs)


def hf_process(logits, previous, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, penalty=1.0, stable=True):
    """What generate(do_sample=True) does to one row, with each processor added only when it is on."""
    processors = []
    if penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(penalty=penalty))
    if temperature != 1.0:
        processors.append(TemperatureLogitsWarper(temperature))
    if top_k != 0:
        processors.append(TopKLogitsWarper(top_k=top_k, min_tokens_to_keep=1))
    if top_p < 1.0:
        processors.append(TopPLogitsWarper(top_p=top_p, min_tokens_to_keep=1))
    if min_p > 0.0:
        processors.append(MinPLogitsWarper(min_p=min_p, min_tokens_to_keep=1))
    scores = logits.clone()[None, :]
    input_ids = previous.clone()[None, :]
    torch.sort = _stable_sort if stable else _torch_sort
    try:
        for p in processors:
            scores = p(input_ids, scores)
    finally:
        torch.sort = _torch_sort
    return scores[0]


def ids(n, vocab, seed, repeats=True):
    """Random ids including the ends of the vocabulary and, optionally, repeats."""
    out = torch.randint(0, vocab, (n,), generator=generator(seed), dtype=torch.int64)
    out = torch.cat([out, torch.tensor([0, vocab - 1], dtype=torch.int64)])
    if repeats:
        out = torch.cat([out, out[: n // 2]])
    return out


def tied(vocab, seed, step=0.5, scale=2.0):
    """Logits on a grid, so many are exactly equal."""
    return torch.round(randn(vocab, seed=seed) * scale / step) * step


def main():
    print(f"transformers {transformers.__version__}, torch {torch.__version__}", file=sys.stderr)
    g = Golden("vlm/sampling.safetensors")

    def add(name, logits, previous, check_ties=False, **opts):
        out = hf_process(logits, previous, **opts)
        assert torch.isfinite(out).any(), name
        if check_ties:
            unpinned = hf_process(logits, previous, stable=False, **opts)
            same = torch.equal(torch.isinf(unpinned), torch.isinf(out))
            print(f"{name}: unpinned CPU sort gives {'the same' if same else 'a DIFFERENT'} kept set", file=sys.stderr)
        options = torch.tensor([opts.get("temperature", 1.0), float(opts.get("top_k", 0)), opts.get("top_p", 1.0),
                                opts.get("min_p", 0.0), opts.get("penalty", 1.0)], dtype=torch.float64)
        kept = int(torch.isfinite(out).sum())
        print(f"{name}: V={logits.numel()}, kept {kept}", file=sys.stderr)
        g.add(name, logits=logits, previous=previous, options=options, out=out)

    # Repetition penalty: logits of both signs and exact zeros, ids repeated.
    x = randn(257, seed=1) * 3.0
    x[5] = 0.0
    prev = torch.cat([ids(40, 257, seed=2), torch.tensor([5, 5], dtype=torch.int64)])
    add("penalty", x, prev, penalty=1.5)
    add("penalty_below_one", x, prev, penalty=0.8)
    add("temperature", randn(300, seed=3) * 2.0, ids(10, 300, seed=4), temperature=0.6)
    add("temperature_hot", randn(300, seed=5), ids(10, 300, seed=6), temperature=1.7)

    # Top-k: ties at the k-th value are all kept.
    x = tied(200, seed=7)
    ranked = torch.sort(x, descending=True).values
    k = next(k for k in range(5, 200) if ranked[k - 1] == ranked[k])  # the k-th value is tied
    add("top_k", x, ids(5, 200, seed=8), top_k=k)
    add("top_k_nth", randn(1000, seed=9), ids(5, 1000, seed=10), top_k=600)
    add("top_k_above_vocab", randn(100, seed=11), ids(5, 100, seed=12), top_k=1000)
    masked = randn(150, seed=13)
    masked[20:] = float("-inf")
    add("top_k_past_finite", masked, ids(5, 150, seed=14), top_k=40)

    # Top-p: keeps the smallest top set reaching top_p; at least one token.
    add("top_p", randn(1000, seed=15) * 3.0, ids(20, 1000, seed=16), top_p=0.9)
    add("top_p_flat", randn(800, seed=17) * 0.3, ids(20, 800, seed=18), top_p=0.95)
    add("top_p_tiny", randn(500, seed=19) * 2.0, ids(20, 500, seed=20), top_p=0.01)
    add("top_p_ties", tied(64, seed=21, step=0.25, scale=1.0), ids(8, 64, seed=22), top_p=0.6, check_ties=True)
    add("top_p_ties_large", tied(600, seed=23, step=0.5, scale=2.0), ids(8, 600, seed=24), top_p=0.7,
        check_ties=True)
    add("top_p_masked", masked, ids(5, 150, seed=25), top_p=0.8)

    # Min-p: keeps tokens with prob >= min_p * max prob.
    add("min_p", randn(500, seed=26) * 2.0, ids(10, 500, seed=27), min_p=0.1)
    add("min_p_ties", tied(300, seed=28), ids(10, 300, seed=29), min_p=0.25)
    add("min_p_masked", masked, ids(5, 150, seed=36), min_p=0.3)

    # Everything at once, in HF's order.
    add("combined", randn(1000, seed=30) * 2.5, ids(30, 1000, seed=31), penalty=1.2, temperature=0.8, top_k=50,
        top_p=0.85, min_p=0.05)
    add("combined_ties", tied(400, seed=32), ids(30, 400, seed=33), penalty=1.3, temperature=0.7, top_k=30,
        top_p=0.9, min_p=0.02, check_ties=True)
    add("combined_no_top_k", randn(700, seed=34) * 2.0, ids(30, 700, seed=35), penalty=1.1, temperature=1.3,
        top_p=0.75, min_p=0.01)
    g.save()


if __name__ == "__main__":
    main()
