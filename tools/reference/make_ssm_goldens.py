"""Goldens for the Mamba op family: the selective scan and the depthwise causal conv1d.

The references are pure PyTorch, written from specs/vision-encoders.md Part C: the scan is an
explicit loop over time like mamba_ssm's selective_scan_ref, the conv is F.conv1d with padding
W-1 and groups=D, cut to the first L steps. Gradients come from torch autograd through them.
Run on a machine with torch (float64, CPU):

    python tools/reference/make_ssm_goldens.py
writes tests/data/ops/ssm.safetensors.
"""
import torch
import torch.nn.functional as F

from golden_io import Golden, randn, uniform, forward_backward


def selective_scan_ref(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False):
    """u, delta, z: (b, d, l); A: (d, n); B, C: (b, n, l) or (b, g, n, l); D, delta_bias: (d)."""
    dt = delta
    if delta_bias is not None:
        dt = dt + delta_bias[:, None]
    if delta_softplus:
        dt = F.softplus(dt)  # beta 1, threshold 20: linear above 20
    batch, dim, length = u.shape
    if B.dim() == 3:
        B = B.unsqueeze(1)
    if C.dim() == 3:
        C = C.unsqueeze(1)
    Bx = B.repeat_interleave(dim // B.shape[1], dim=1)  # (b, d, n, l): channel d uses group d // (d/g)
    Cx = C.repeat_interleave(dim // C.shape[1], dim=1)
    dA = torch.exp(torch.einsum("bdl,dn->bdln", dt, A))
    dBu = torch.einsum("bdl,bdnl,bdl->bdln", dt, Bx, u)
    h = torch.zeros(batch, dim, A.shape[1], dtype=u.dtype)
    ys = []
    for t in range(length):
        h = dA[:, :, t] * h + dBu[:, :, t]
        ys.append(torch.einsum("bdn,bdn->bd", h, Cx[:, :, :, t]))
    y = torch.stack(ys, dim=2)
    if D is not None:
        y = y + u * D[:, None]
    return y if z is None else y * F.silu(z)


def causal_conv1d_ref(x, weight, bias=None, silu=False):
    """x: (b, d, l); weight: (d, w); bias: (d)."""
    dim, width = weight.shape
    out = F.conv1d(x, weight[:, None, :], bias, padding=width - 1, groups=dim)[..., : x.shape[-1]]
    return F.silu(out) if silu else out


def case(golden, name, fn, inputs, seed):
    """inputs: dict name -> tensor, in fn's argument order; all get gradients."""
    names = list(inputs)
    tensors = [inputs[n].clone().requires_grad_(True) for n in names]
    out, gout, grads = forward_backward(fn, tensors, seed)
    stored = dict(inputs)
    stored["out"] = out
    stored["gout"] = gout
    for n, g in zip(names, grads):
        stored["g" + n] = g
    golden.add(name, **stored)


def scan_inputs(batch, dim, nstate, length, groups, seed):
    bc_shape = (batch, nstate, length) if groups is None else (batch, groups, nstate, length)
    return {
        "u": randn(batch, dim, length, seed=seed),
        "delta": 0.5 * randn(batch, dim, length, seed=seed + 1),
        "A": -uniform(dim, nstate, lo=0.2, hi=1.5, seed=seed + 2),
        "B": randn(*bc_shape, seed=seed + 3),
        "C": randn(*bc_shape, seed=seed + 4),
    }


def main():
    g = Golden("ops/ssm.safetensors")

    # Everything on: z gate, D skip, delta bias and softplus.
    full = scan_inputs(2, 3, 4, 9, None, seed=10)
    full.update(D=randn(3, seed=15), z=randn(2, 3, 9, seed=16), delta_bias=0.3 * randn(3, seed=17))
    case(g, "scan_full",
         lambda u, d, A, B, C, D, z, db: selective_scan_ref(u, d, A, B, C, D, z, db, delta_softplus=True),
         full, seed=100)

    # No optional tensors and no softplus: delta is used as it is (kept positive).
    plain = scan_inputs(2, 3, 4, 9, None, seed=20)
    plain["delta"] = uniform(2, 3, 9, lo=0.05, hi=1.0, seed=21)
    case(g, "scan_plain", selective_scan_ref, plain, seed=101)

    # Grouped B/C: G=2 groups over D=4 channels (channels 0,1 -> group 0; 2,3 -> group 1).
    grouped = scan_inputs(2, 4, 3, 7, 2, seed=30)
    grouped.update(D=randn(4, seed=35), delta_bias=0.3 * randn(4, seed=36))
    case(g, "scan_grouped",
         lambda u, d, A, B, C, D, db: selective_scan_ref(u, d, A, B, C, D, None, db, delta_softplus=True),
         grouped, seed=102)

    # Softplus' linear branch: about half the pre-softplus deltas lie in [21, 24], the rest in
    # [-2, 2]; none near the threshold of 20. Small A keeps exp(delta * A) away from underflow.
    big = scan_inputs(1, 3, 2, 8, None, seed=40)
    mask = uniform(1, 3, 8, lo=0.0, hi=1.0, seed=41) > 0.5
    big["delta"] = torch.where(mask, uniform(1, 3, 8, lo=21.0, hi=24.0, seed=42),
                               uniform(1, 3, 8, lo=-2.0, hi=2.0, seed=43))
    big["A"] = -uniform(3, 2, lo=0.01, hi=0.1, seed=44)
    big["z"] = randn(1, 3, 8, seed=45)
    case(g, "scan_softplus_linear",
         lambda u, d, A, B, C, z: selective_scan_ref(u, d, A, B, C, None, z, None, delta_softplus=True),
         big, seed=103)

    # causal_conv1d: width 4 with bias and silu (mamba's), width 2 bare.
    case(g, "conv_w4_bias_silu", lambda x, w, b: causal_conv1d_ref(x, w, b, silu=True),
         {"x": randn(2, 3, 10, seed=50), "w": 0.5 * randn(3, 4, seed=51), "b": randn(3, seed=52)}, seed=104)
    case(g, "conv_w2_plain", lambda x, w: causal_conv1d_ref(x, w),
         {"x": randn(2, 5, 6, seed=60), "w": randn(5, 2, seed=61)}, seed=105)
    g.save()


if __name__ == "__main__":
    main()
