"""Goldens for scaled dot-product attention and RoPE (src/ops/attention.h, src/ops/rope.h).

The reference math is written out with plain torch ops in float64 (kv heads repeated with
repeat_interleave, masks built by hand, softmax, @ v), then checked against
torch.nn.functional.scaled_dot_product_attention wherever SDPA can express the case, and the RoPE
math against transformers' Gemma 3n apply_rotary_pos_emb when transformers is installed. Run where
torch is:

    cd tools/reference && python make_attention_goldens.py
writes tests/data/ops/attention.safetensors and tests/data/ops/rope.safetensors.
Tensors per case: inputs, "out", a random upstream gradient "gout" and the gradients "g<input>".
The C++ tests (tests/ops/attention_test.cpp, rope_test.cpp) repeat each case's options.
"""
import math

import torch
import torch.nn.functional as F

from golden_io import Golden, randn, forward_backward


def visible(lq, lk, causal, window, offset):
    """[Lq, Lk] bool: query at absolute position offset + i may see key j."""
    pos = offset + torch.arange(lq)[:, None]
    j = torch.arange(lk)[None, :]
    vis = torch.ones(lq, lk, dtype=torch.bool)
    if causal:
        vis &= j <= pos
    if window > 0:
        vis &= (pos - j) < window
    return vis


def reference_attention(q, k, v, causal=False, window=0, scale=None, offset=None, mask=None):
    """The semantics of vg::scaled_dot_product_attention, spelled out."""
    b, hq, lq, d = q.shape
    hkv, lk = k.shape[1], k.shape[2]
    rep = hq // hkv
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    offset = lk - lq if offset is None else offset
    kr = k.repeat_interleave(rep, dim=1)  # query head h reads kv head h // rep
    vr = v.repeat_interleave(rep, dim=1)
    s = q @ kr.transpose(-1, -2) * scale  # [B, Hq, Lq, Lk]
    vis = visible(lq, lk, causal, window, offset).expand(b, hq, lq, lk)
    if mask is not None and mask.dtype == torch.bool:
        vis = vis & mask
    elif mask is not None:
        s = s + mask
        vis = vis & (mask != float("-inf"))
    s = s.masked_fill(~vis, float("-inf"))
    seen = vis.any(-1, keepdim=True)
    # Rows that see no key output zeros; the where() keeps their softmax (and gradients) finite.
    p = torch.softmax(torch.where(seen, s, torch.zeros_like(s)), -1) * seen
    return p @ vr, vis


def check_against_sdpa(q, k, v, out, vis, scale, mask=None, is_causal=False):
    """SDPA on the same inputs (mask as bool, or bool + additive), over rows that see some key."""
    rep = q.shape[1] // k.shape[1]
    kr, vr = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    with torch.no_grad():
        if mask is not None and mask.dtype != torch.bool:
            attn = mask.expand(vis.shape).masked_fill(~vis, float("-inf"))
        else:
            attn = vis
        ref = F.scaled_dot_product_attention(q, kr, vr, attn_mask=attn, scale=scale)
        seen = vis.any(-1)  # [B, Hq, Lq]: SDPA's fully masked rows are NaN (or zero in newer torch)
        assert torch.allclose(out[seen], ref[seen], rtol=1e-10, atol=1e-12), "SDPA disagrees"
        if is_causal:
            try:
                ref2 = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale, enable_gqa=rep > 1)
            except TypeError:  # torch < 2.5 has no enable_gqa
                ref2 = F.scaled_dot_product_attention(q, kr, vr, is_causal=True, scale=scale)
            assert torch.allclose(out, ref2, rtol=1e-10, atol=1e-12), "SDPA (is_causal) disagrees"


def attention_case(g, name, shapes, seed, causal=False, window=0, scale=None, offset=None, mask=None,
                   sdpa_causal=False):
    (b, hq, lq, d), (hkv, lk, dv) = shapes
    q = randn(b, hq, lq, d, seed=seed)
    k = randn(b, hkv, lk, d, seed=seed + 1)
    v = randn(b, hkv, lk, dv, seed=seed + 2)
    tensors = [t.clone().requires_grad_(True) for t in (q, k, v)]
    out, vis = reference_attention(*tensors, causal=causal, window=window, scale=scale, offset=offset, mask=mask)
    gout = randn(*out.shape, seed=seed + 3)
    gq, gk, gv = torch.autograd.grad(out, tensors, gout)
    check_against_sdpa(q, k, v, out.detach(), vis, scale, mask, sdpa_causal)
    extra = {} if mask is None else {"mask": mask}
    g.add(name, q=q, k=k, v=v, out=out, gout=gout, gq=gq, gk=gk, gv=gv, **extra)


def attention():
    g = Golden("ops/attention.safetensors")
    # Options per case are repeated in tests/ops/attention_test.cpp.
    attention_case(g, "causal_gqa", ((2, 4, 7, 5), (2, 7, 5)), seed=10, causal=True, sdpa_causal=True)
    attention_case(g, "causal_window3", ((1, 4, 7, 5), (2, 7, 5)), seed=20, causal=True, window=3)
    attention_case(g, "scale1_dv3", ((2, 3, 4, 5), (3, 6, 3)), seed=30, scale=1.0)
    attention_case(g, "decode_causal", ((1, 4, 2, 6), (1, 9, 6)), seed=40, causal=True)
    attention_case(g, "offset3_window4", ((1, 2, 3, 4), (1, 9, 4)), seed=50, causal=True, window=4, offset=3)
    # Left padding: batch 1 pads its first two positions, so its first two (causal) rows see nothing.
    pad = torch.ones(2, 1, 1, 6, dtype=torch.bool)
    pad[1, :, :, :2] = False
    attention_case(g, "bool_padding", ((2, 2, 6, 4), (1, 6, 4)), seed=60, causal=True, mask=pad)
    # Additive [Lq, Lk] mask with some -inf (hidden keys) and a large finite penalty.
    add = 2.0 * randn(5, 5, seed=70)
    add[0, 1] = add[2, 0] = add[2, 4] = float("-inf")
    add[3, 3] = -1e4
    attention_case(g, "additive_mask", ((1, 2, 5, 4), (2, 5, 4)), seed=71, mask=add)
    g.save()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_reference(x, cos, sin):
    return x * cos + rotate_half(x) * sin


def tables_f64(positions, d, theta):
    inv_freq = theta ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    ang = positions.to(torch.float64)[:, None] * inv_freq[None, :]
    emb = torch.cat((ang, ang), dim=-1)
    return emb.cos(), emb.sin()


def tables_hf_f32(positions, d, theta):
    """Gemma3nRotaryEmbedding (default rope, attention_scaling 1): every step in float32."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.int64).to(dtype=torch.float) / d))
    inv_freq_expanded = inv_freq[None, :, None].float().expand(1, -1, 1)
    position_ids_expanded = positions[None, None, :].float()
    freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos()[0], emb.sin()[0]


def check_against_transformers(x, cos, sin, out):
    try:
        from transformers.models.gemma3n.modeling_gemma3n import apply_rotary_pos_emb
    except ImportError:
        print("transformers with Gemma 3n not installed: skipping the cross-check of apply_rope")
        return
    with torch.no_grad():
        # HF takes cos/sin [B, T, D] and unsqueezes them at unsqueeze_dim (1 for [B, H, T, D] x).
        if cos.dim() == 2:
            ref = apply_rotary_pos_emb(x, cos[None], sin[None], unsqueeze_dim=1)
        else:
            ref = apply_rotary_pos_emb(x, cos[None, :, 0], sin[None, :, 0], unsqueeze_dim=2)
        ref = ref[0] if isinstance(ref, tuple) else ref
        assert torch.allclose(ref, out, rtol=1e-12, atol=1e-14), "transformers apply_rotary_pos_emb disagrees"
        print("apply_rope matches transformers' Gemma 3n apply_rotary_pos_emb")


def rope():
    g = Golden("ops/rope.safetensors")
    pos = torch.arange(6, dtype=torch.int64)
    for name, theta in (("tables_1e4", 10000.0), ("tables_1e6", 1000000.0)):
        c, s = tables_f64(pos, 8, theta)
        c32, s32 = tables_hf_f32(pos, 8, theta)
        g.add(name, positions=pos, cos=c, sin=s, cos_f32=c32, sin_f32=s32)
    # Gemma 3n's real head dim with far positions: the f32 angles are large, so only HF's exact f32
    # arithmetic (same inv_freq bits, same rounded products) reproduces them.
    far = torch.tensor([0, 1, 511, 4097, 32767], dtype=torch.int32)
    for name, theta in (("tables_hf_d256_1e4", 10000.0), ("tables_hf_d256_1e6", 1000000.0)):
        c32, s32 = tables_hf_f32(far.to(torch.int64), 256, theta)
        g.add(name, positions=far, cos_f32=c32, sin_f32=s32)

    b, t, h, d = 2, 5, 3, 8
    c, s = tables_f64(torch.arange(3, 3 + t), d, 10000.0)  # positions 3..7, as after a cached prefix
    # x [B, T, H, D] against tables [T, 1, D]
    x = randn(b, t, h, d, seed=80).requires_grad_(True)
    out, gout, (gx,) = forward_backward(lambda x_: rope_reference(x_, c[:, None], s[:, None]), [x], seed=81)
    check_against_transformers(x.detach(), c[:, None], s[:, None], out.detach())
    g.add("rope_bthd", x=x, cos=c[:, None], sin=s[:, None], out=out, gout=gout, gx=gx)
    # x [B, H, T, D] against tables [T, D]
    x = randn(b, h, t, d, seed=82).requires_grad_(True)
    out, gout, (gx,) = forward_backward(lambda x_: rope_reference(x_, c, s), [x], seed=83)
    check_against_transformers(x.detach(), c, s, out.detach())
    g.add("rope_bhtd", x=x, cos=c, sin=s, out=out, gout=gout, gx=gx)
    g.save()


if __name__ == "__main__":
    torch.manual_seed(0)
    attention()
    rope()
