"""Goldens for the ETP projectors and the attentive frame selection of Mobile-VideoGPT
(specs/mobile-videogpt-reference.md §1.5, §1.7), float64. The modules below restate the
reference's module tree so the parameter names are the checkpoint's (mlp.mlp.0, peg.peg.0).

    python tools/reference/make_etp_goldens.py   ->  tests/data/vlm/etp.safetensors
"""
import math

import torch
import torch.nn as nn

from golden_io import Golden, randn


class DenseMLP(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, out_dim), nn.GELU(), nn.Linear(out_dim, out_dim))

    def forward(self, x):
        return self.mlp(x)


class PosEncoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.peg = nn.Sequential(nn.Conv2d(dim, dim, kernel_size=(3, 3), stride=1, padding=1, groups=dim))

    def forward(self, x):
        return self.peg(x) + x


class ETProjector(nn.Module):
    def __init__(self, inc, ouc, pooled):
        super().__init__()
        self.mlp = DenseMLP(inc, ouc)
        self.dwn = nn.AdaptiveAvgPool2d((pooled, pooled))
        self.peg = PosEncoder(ouc)

    def forward(self, x):
        x = self.mlp(x)
        b, n, c = x.shape
        s = int(math.sqrt(n))
        x = x.view(b, s, s, c).permute(0, 3, 1, 2)
        x = self.peg(self.dwn(x))
        return x.permute(0, 2, 3, 1).reshape(b, -1, c)


def projector_case(golden, name, inc, ouc, pooled, seed):
    torch.manual_seed(seed)
    proj = ETProjector(inc, ouc, pooled).double()
    with torch.no_grad():
        for p in proj.parameters():
            p.copy_(randn(*p.shape, seed=seed + p.numel()) / math.sqrt(max(p.shape[-1], 1)))
    x = randn(2, 196, inc, seed=seed + 1).requires_grad_(True)
    out = proj(x)
    gout = randn(*out.shape, seed=seed + 2)
    out.backward(gout)
    tensors = {"x": x.detach(), "out": out.detach(), "gout": gout, "gx": x.grad}
    for n, p in proj.named_parameters():
        tensors["w." + n] = p.detach()
        tensors["g." + n] = p.grad
    golden.add(name, **tensors)


def select_frame_in_chunk(features, chunk=8, k=4):
    """The reference's scoring (arch.py select_frame_in_chunk): per chunk, softmax(t t^T / sqrt(D)),
    attention received per frame, top-k frames in ascending order."""
    n, l, d = features.shape
    out = []
    for c in range(n // chunk):
        tok = features[c * chunk:(c + 1) * chunk].reshape(chunk * l, d)
        a = torch.softmax(tok @ tok.T / math.sqrt(d), dim=-1)
        frame_of_key = torch.arange(chunk * l) // l
        onehot = torch.nn.functional.one_hot(frame_of_key, chunk).to(a.dtype)
        score = (a @ onehot).sum(0)
        idx = torch.sort(torch.topk(score, k).indices).values
        out.append(idx + c * chunk)
    return torch.cat(out), score


if __name__ == "__main__":
    g = Golden("vlm/etp.safetensors")
    projector_case(g, "image", 24, 16, 12, seed=10)
    projector_case(g, "video", 20, 16, 7, seed=20)
    # Frames of different feature scales so the ranking is clear of rounding.
    # Stored as f32 (small file); the reference scores their exact f64 values.
    feats = (randn(16, 196, 24, seed=30) * (0.5 + torch.rand(16, 1, 1, generator=torch.Generator().manual_seed(31),
                                                             dtype=torch.float64))).float()
    idx, score = select_frame_in_chunk(feats.double())
    g.add("select", features=feats, indices=idx, last_chunk_scores=score)
    g.save()
