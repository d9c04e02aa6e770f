"""Golden for the whole vision side of Mobile-VideoGPT (specs/mobile-videogpt-reference.md §1.4-1.8),
float64 on the CPU: N frames of pixels -> CLIP (transformers' CLIPVisionModel, hidden_states[-2],
CLS dropped) -> attentive selection of 4 frames per chunk of 8 (N = 16) -> VideoMamba on the 8
chosen frames of its own view (the pure-PyTorch encoder of make_videomamba_goldens.py) -> 2x2 mean
to 7x7 -> "(p t) l d -> p (t l) d" with 4 frames per chunk -> video ETP; CLIP features -> image ETP;
tokens [ctx frames in time order, then video chunk 0, chunk 1].

The models are small but have the real token geometry (224x224 pixels, 16x16 patches, 196 tokens
per frame, 1569 VideoMamba positions), so every reshape of the pipeline is exercised: CLIP hidden
32 (2 layers, 2 heads), VideoMamba embed 32 (depth 2, d_state 4), projectors to width 16. Every
weight and both pixel tensors come from seeded_weights.py, which the C++ test regenerates, so the
file holds only outputs:

  n16.indices         frames VideoMamba sees (the reference's top-4 per chunk, ascending)
  n16.scores          attention mass each of the 16 frames received (per chunk)
  n16.tokens          [2402, 16] visual tokens
  n16.clip_norms      [16, 196] L2 norm of every CLIP feature token
  n16.videomamba_norms [8, 196] L2 norm of every VideoMamba feature token
  n16.g.image.* / n16.g.video.*  gradients of sum(tokens * probe) into every projector parameter
  n8.tokens           [1250, 16] with N = 8: VideoMamba sees all 8 frames (our extension; the
                      reference crashes at 8 frames, §1.1), same formula otherwise

    cd tools/reference && python make_visual_goldens.py   ->  tests/data/vlm/visual_golden.safetensors
"""
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import CLIPVisionConfig

from golden_io import DATA
from make_clip_goldens import build, strip
from make_etp_goldens import ETProjector, select_frame_in_chunk
from make_videomamba_goldens import Geometry, encoder, parameter_shapes, seeded
from seeded_weights import kind_of, seeded_tensor

BASE_SEED = 20251124
LM_WIDTH = 16


def seeded64(name, shape, kind):
    return torch.from_numpy(seeded_tensor(name, tuple(shape), kind, BASE_SEED)).to(torch.float64)


def clip_model():
    cfg = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=224, patch_size=16, hidden_act="quick_gelu", layer_norm_eps=1e-5)
    model = build(cfg).double()
    with torch.no_grad():
        for n, p in model.named_parameters():
            n = strip(n)
            p.copy_(seeded64(n, p.shape, kind_of(n, p.shape)))
    return model


def videomamba_weights(geo):
    return {n: torch.from_numpy(seeded("vision_encoder." + n, s, BASE_SEED)).to(torch.float64)
            for n, s in parameter_shapes(geo).items()}


def projector(prefix, inc, pooled):
    """Weights named as the checkpoint names them under `prefix`: matrices with the 'matrix' kind
    (the depthwise kernel drawn as the [H, 9] matrix it is), vectors with the 'scale' kind."""
    proj = ETProjector(inc, LM_WIDTH, pooled).double()
    with torch.no_grad():
        for n, p in proj.named_parameters():
            if p.dim() == 1:
                p.copy_(seeded64(prefix + n, p.shape, "scale"))
            else:
                p.copy_(seeded64(prefix + n, (p.shape[0], p[0].numel()), "matrix").reshape(p.shape))
    return proj


def visual_tokens(clip, vm, geo, image_proj, video_proj, clip_pixels, vm_pixels):
    n = clip_pixels.shape[0]
    with torch.no_grad():
        ctx = clip(pixel_values=clip_pixels, output_hidden_states=True).hidden_states[-2][:, 1:]  # (N, 196, 32)
        if n == 16:
            idx, _ = select_frame_in_chunk(ctx)
            scores = torch.cat([select_frame_in_chunk(ctx[c * 8:(c + 1) * 8])[1] for c in range(2)])
        else:
            idx, scores = torch.arange(8), None
        x_vis = encoder(vm, vm_pixels[idx].unsqueeze(0), geo)  # (1, 1569, C)
        v = x_vis[0, 1:].reshape(8, 196, geo.C)                  # 'c (t l) d -> (c t) l d', t = 8
        v = v.reshape(8, 14, 14, geo.C).permute(0, 3, 1, 2)      # apply_adaptive_avg_pooling((7, 7))
        v = F.adaptive_avg_pool2d(v, (7, 7)).permute(0, 2, 3, 1).reshape(8, 49, geo.C)
        v = v.reshape(2, 4 * 49, geo.C)                          # '(p t) l d -> p (t l) d', p = 2
    img = image_proj(ctx)                                        # (N, 144, H)
    vid = video_proj(v)                                          # (2, 49, H)
    tokens = torch.cat([img.reshape(-1, LM_WIDTH), vid.reshape(-1, LM_WIDTH)])
    return tokens, idx, scores, ctx, x_vis[0, 1:].reshape(8, 196, geo.C)


def main():
    torch.set_grad_enabled(True)
    clip = clip_model()
    geo = Geometry(embed_dim=32, depth=2, d_state=4, img_size=224, num_frames=8)
    vm = videomamba_weights(geo)
    image_proj = projector("image_mm_projector.", 32, 12)
    video_proj = projector("mm_projector.", geo.C, 7)
    clip_pixels = seeded64("clip_pixels", (16, 3, 224, 224), "embedding")
    vm_pixels = seeded64("videomamba_pixels", (16, 3, 224, 224), "embedding")
    golden = {"base_seed": torch.tensor([BASE_SEED], dtype=torch.int64)}

    tokens, idx, scores, ctx, vmf = visual_tokens(clip, vm, geo, image_proj, video_proj, clip_pixels, vm_pixels)
    assert tokens.shape == (2402, LM_WIDTH), tokens.shape
    probe = seeded64("probe", tokens.shape, "embedding")
    (tokens * probe).sum().backward()
    golden.update({"n16.indices": idx.to(torch.int64), "n16.scores": scores, "n16.tokens": tokens.detach(),
                   "n16.clip_norms": ctx.norm(dim=-1), "n16.videomamba_norms": vmf.norm(dim=-1)})
    for tag, proj in (("image", image_proj), ("video", video_proj)):
        for n, p in proj.named_parameters():
            golden[f"n16.g.{tag}.{n}"] = p.grad.clone()
    s = scores.reshape(2, 8).sort(dim=-1, descending=True).values
    print("selected", idx.tolist(), "margin between 4th and 5th score per chunk", (s[:, 3] - s[:, 4]).tolist())

    tokens8, _, _, _, _ = visual_tokens(clip, vm, geo, image_proj, video_proj, clip_pixels[:8], vm_pixels[:8])
    assert tokens8.shape == (1250, LM_WIDTH), tokens8.shape
    golden["n8.tokens"] = tokens8.detach()

    out = os.path.join(DATA, "vlm", "visual_golden.safetensors")
    save_file({k: v.detach().contiguous() for k, v in golden.items()}, out)
    print(out, os.path.getsize(out))


if __name__ == "__main__":
    main()
