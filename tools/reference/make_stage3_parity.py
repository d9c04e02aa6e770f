"""Stage-3 training with transformers + PEFT, the reference `videogemma train`'s optimizer step
(src/train/training_step.h) must follow: LoRA on the attention projections of a tiny Gemma 3n plus
both ETP projectors, frozen towers replaced by fixed features, AdamW with parameter groups,
warmup + cosine, gradient accumulation 2, clipping to norm 1, loss on answer tokens only, fp32 on
the CPU (eager attention). tests/train/stage3_parity_test.cpp replays it.

Writes tests/data/train/stage3_parity/ (about 1.5 MB):
  lm/config.json, lm/model.safetensors   Gemma3nForCausalLM.save_pretrained of a 4-layer model with
                                         every feature of the architecture (AltUp, LAuReL, PLE, KV
                                         sharing, activation sparsity, sliding + full attention),
                                         weights from seeded_weights.py
  adapter/                               PEFT's own save_pretrained right after get_peft_model:
                                         A kaiming-uniform, B zero (r 4, alpha 8, dropout 0, q/k/v/o)
  image_projector.safetensors            the initial ETP projectors (PyTorch's default init), in
  video_projector.safetensors            the layout `videogemma train` writes
  golden.safetensors                     "features.clip.<k>" [N, 196, 32], "features.videomamba.<k>"
                                         [8, 196, 16] (what the feature cache holds for clip k), and
                                         "final.<name>": every trained tensor after the last step
                                         under the trainer's names (PEFT keys, mm_projector.*,
                                         image_mm_projector.*)
  expected.json                          settings, examples (token ids, media position, answer span,
                                         spliced labels), the batch order, per step: loss, grad
                                         norm, learning rates; per micro-batch losses; the same run
                                         in float64; decay/no-decay names; library versions

The loss definition is the trainer's: each micro-batch's mean over its answer tokens, divided by
the number of micro-batches for backward; the step's loss is the mean of the micro-batch means.
(transformers' Trainer >= 4.46 with a model that takes loss kwargs divides the token sum by the
step's token count instead; docs/training.md.)

Usage (from anywhere; torch, transformers 5.x and peft installed):
    python tools/reference/make_stage3_parity.py [--out DIR]
--out also receives a copy of every file (at most two folders deep).
"""
import argparse
import json
import math
import os
import shutil
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from make_etp_goldens import ETProjector  # noqa: E402
from make_gemma3n_goldens import make_config  # noqa: E402
from seeded_weights import kind_of, seeded_tensor  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
REL = os.path.join("tests", "data", "train", "stage3_parity")  # relative: PEFT records the base path
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

# The geometry: LM width 64, CLIP features 32 wide, VideoMamba features 16 wide (different widths
# so the two projectors cannot be swapped unnoticed).
H, DC, DV = 64, 32, 16
BASE_SEED = 20251201
SETTINGS = {
    "lora_r": 4, "lora_alpha": 8, "lora_dropout": 0.0,
    "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj"],  # the design's attention projections
    "lora_lr": 2e-4, "projector_lr": 1e-4,
    "weight_decay": 0.1,  # the design uses 0; non-zero here so the no-decay groups matter
    "lr_scheduler": "cosine", "warmup_ratio": 0.1, "total_steps": 20,
    "gradient_accumulation": 2, "batch_size": 2, "max_grad_norm": 1.0,
    "adam_betas": [0.9, 0.999], "adam_eps": 1e-8,
}
# Token ids standing in for Gemma's template (vocab 512): <bos>, <start_of_turn>, <end_of_turn>,
# "\n", "user", "model", and the media placeholder the visual tokens replace.
BOS, SOT, EOT, NL, USER, MODEL, MEDIA = 2, 105, 106, 10, 30, 31, 300
CLIP_FRAMES = [1, 2, 1]  # CLIP frames per clip: a still image, a 2-frame clip, another still
# (clip or -1 for text only, question length, answer length)
EXAMPLES = [(0, 5, 4), (1, 3, 6), (2, 7, 3), (-1, 9, 5), (0, 4, 7), (2, 6, 8)]


def lm_config():
    return make_config(
        vocab_size=512, vocab_size_per_layer_input=512, hidden_size=H, hidden_size_per_layer_input=16,
        intermediate_size=[128, 96, 128, 128], num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, hidden_activation="gelu_pytorch_tanh", max_position_embeddings=512,
        rms_norm_eps=1e-6, sliding_window=64,
        layer_types=["sliding_attention", "full_attention", "sliding_attention", "full_attention"],
        final_logit_softcapping=30.0, altup_active_idx=0, altup_coef_clip=120.0, altup_correct_scale=True,
        altup_num_inputs=4, num_kv_shared_layers=2, laurel_rank=8,
        activation_sparsity_pattern=[0.95, 0.0, 0.0, 0.0],
        pad_token_id=0, eos_token_id=1, bos_token_id=2, tie_word_embeddings=True)


def write_lm(folder):
    from transformers import Gemma3nForCausalLM

    model = Gemma3nForCausalLM._from_config(lm_config(), attn_implementation="eager").float()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(seeded_tensor(name, tuple(p.shape), kind_of(name, p.shape), BASE_SEED)))
    model.save_pretrained(folder, safe_serialization=True)
    gen_config = os.path.join(folder, "generation_config.json")
    if os.path.exists(gen_config):
        os.remove(gen_config)  # not read by the loader


def make_examples():
    g = torch.Generator().manual_seed(3)

    def words(n):
        return [int(t) for t in torch.randint(3, 512, (n,), generator=g)]

    out = []
    for clip, q, a in EXAMPLES:
        question = [t if t not in (SOT, EOT, MEDIA) else t + 1 for t in words(q)]
        answer = [t if t not in (SOT, EOT, MEDIA) else t + 1 for t in words(a)]
        ids = [BOS, SOT, USER, NL]
        media = -1
        if clip >= 0:
            media = len(ids)
            ids += [MEDIA, NL]
        ids += question + [EOT, NL, SOT, MODEL, NL]
        begin = len(ids)
        ids += answer + [EOT]  # the closing <end_of_turn> carries loss too: the model learns to stop
        end = len(ids) - 1
        ids += [NL]
        out.append({"ids": ids, "clip": clip, "media_position": media, "answer_begin": begin, "answer_end": end})
    return out


def batch_order(n_examples):
    """A seeded shuffle per epoch, cut into micro-batches of batch_size, accumulation per step."""
    s = SETTINGS
    g = torch.Generator().manual_seed(4)
    flat = []
    need = s["total_steps"] * s["gradient_accumulation"] * s["batch_size"]
    while len(flat) < need:
        flat += [int(i) for i in torch.randperm(n_examples, generator=g)]
    micro = [flat[i:i + s["batch_size"]] for i in range(0, need, s["batch_size"])]
    a = s["gradient_accumulation"]
    return [micro[i:i + a] for i in range(0, len(micro), a)]


class Stage3(torch.nn.Module):
    """The trained modules under the names the trainer gives them."""

    def __init__(self, lm, image_projector, video_projector):
        super().__init__()
        self.language_model = lm
        self.image_mm_projector = image_projector
        self.mm_projector = video_projector


def trainer_name(module_name):
    if module_name.startswith("language_model."):
        return module_name[len("language_model."):].replace(".default", "")
    return module_name


def visual_tokens(m, clip_features, videomamba_features):
    """VisualEncoder::project: image tokens of every frame, then two chunks of 4 pooled frames."""
    image = m.image_mm_projector(clip_features)  # [N, 144, H]
    v = videomamba_features.reshape(8, 14, 14, DV).permute(0, 3, 1, 2)
    v = F.adaptive_avg_pool2d(v, (7, 7)).permute(0, 2, 3, 1).reshape(8, 49, DV)
    v = v.reshape(2, 4 * 49, DV)
    video = m.mm_projector(v)  # [2, 49, H]
    return torch.cat([image.reshape(-1, H), video.reshape(-1, H)])


def spliced(m, text_model, ex, features):
    """Text rows embedded (scaled by sqrt(H)), visual rows unscaled with PLE id 0, labels on the answer."""
    ids = torch.tensor(ex["ids"])
    labels = torch.full_like(ids, -100)
    labels[ex["answer_begin"]:ex["answer_end"] + 1] = ids[ex["answer_begin"]:ex["answer_end"] + 1]
    if ex["clip"] < 0:
        return text_model.embed_tokens(ids), ids, labels
    at = ex["media_position"]
    dtype = text_model.embed_tokens.weight.dtype
    vis = visual_tokens(m, features["clip"][ex["clip"]].to(dtype), features["videomamba"][ex["clip"]].to(dtype))
    n = vis.shape[0]
    emb = torch.cat([text_model.embed_tokens(ids[:at]), vis, text_model.embed_tokens(ids[at + 1:])])
    ple = torch.cat([ids[:at], torch.zeros(n, dtype=ids.dtype), ids[at + 1:]])
    lab = torch.cat([labels[:at], torch.full((n,), -100, dtype=ids.dtype), labels[at + 1:]])
    return emb, ple, lab


def micro_batch_loss(m, peft_model, text_model, examples, indices, features):
    rows = [spliced(m, text_model, examples[i], features) for i in indices]
    T = max(r[0].shape[0] for r in rows)
    fp32 = text_model.embed_tokens.weight.dtype == torch.float32
    embeds, ples, labels, masks = [], [], [], []
    for emb, ple, lab in rows:  # right padding
        pad = T - emb.shape[0]
        # float64: padding rows copy the last row, as the trainer pads (training_step.cpp), because
        # without the mask below a padding query whose window holds only zero rows would give an
        # all-zero MLP gate, whose Gaussian top-k std has a 0/0 gradient.
        filler = emb.new_zeros(pad, H) if fp32 else emb[-1:].detach().expand(pad, H)
        embeds.append(torch.cat([emb, filler]))
        ples.append(torch.cat([ple, torch.zeros(pad, dtype=ple.dtype)]))
        labels.append(torch.cat([lab, torch.full((pad,), -100, dtype=lab.dtype)]))
        masks.append(torch.cat([torch.ones(emb.shape[0], dtype=torch.long), torch.zeros(pad, dtype=torch.long)]))
    ple, labels = torch.stack(ples), torch.stack(labels)
    if fp32:
        # transformers' own loss (ForCausalLMLoss: shift, cross-entropy, mean over labels != -100)
        out = peft_model(inputs_embeds=torch.stack(embeds), per_layer_inputs=text_model.get_per_layer_inputs(ple),
                         attention_mask=torch.stack(masks), labels=labels, use_cache=False)
        return out.loss
    # The same in float64 by hand: ForCausalLMLoss would round the logits to float32 first. No
    # padding mask (right padding never reaches a real token under the causal mask): eager
    # attention takes its softmax in float32, where float64's mask minimum becomes -inf, so a
    # padding query that sees no key at all would turn NaN.
    logits = peft_model(inputs_embeds=torch.stack(embeds), per_layer_inputs=text_model.get_per_layer_inputs(ple),
                        use_cache=False).logits
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100)


def build(dtype, fresh):
    """The PEFT model and both projectors. fresh: get_peft_model (PEFT's init, saved as the
    initial adapter); otherwise everything is loaded back from the saved files."""
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import Gemma3nForCausalLM

    s = SETTINGS
    base = Gemma3nForCausalLM.from_pretrained(os.path.join(REL, "lm"), dtype=dtype, attn_implementation="eager")
    if fresh:
        torch.manual_seed(5)
        config = LoraConfig(r=s["lora_r"], lora_alpha=s["lora_alpha"], lora_dropout=s["lora_dropout"],
                            target_modules=s["lora_targets"], task_type="CAUSAL_LM")
        peft_model = get_peft_model(base, config)
        torch.manual_seed(6)
        image, video = ETProjector(DC, H, 12), ETProjector(DV, H, 7)
    else:
        peft_model = PeftModel.from_pretrained(base, os.path.join(REL, "adapter"), is_trainable=True)
        image, video = ETProjector(DC, H, 12), ETProjector(DV, H, 7)
        image.load_state_dict(load_file(os.path.join(REL, "image_projector.safetensors")))
        video.load_state_dict(load_file(os.path.join(REL, "video_projector.safetensors")))
    m = Stage3(peft_model, image, video).to(dtype)
    m.train()
    return m


def train(m, examples, batches, features, record):
    from transformers import Trainer, get_cosine_schedule_with_warmup

    s = SETTINGS
    peft_model = m.language_model
    text_model = peft_model.get_base_model().model  # Gemma3nTextModel
    named = [(trainer_name(n), p) for n, p in m.named_parameters() if p.requires_grad]
    decay = {trainer_name(n) for n in Trainer.get_decay_parameter_names(None, m)}
    groups = []
    for family, lr in (("lora", s["lora_lr"]), ("projector", s["projector_lr"])):
        mine = [(n, p) for n, p in named if (n.startswith("base_model.") == (family == "lora"))]
        for wd, keep in ((s["weight_decay"], True), (0.0, False)):
            params = [p for n, p in mine if (n in decay) == keep]
            if params:
                groups.append({"params": params, "lr": lr, "weight_decay": wd})
    # foreach=False: the single-tensor AdamW our optimizer reproduces (the default on the CPU)
    opt = torch.optim.AdamW(groups, betas=tuple(s["adam_betas"]), eps=s["adam_eps"], foreach=False)
    warmup = math.ceil(s["warmup_ratio"] * s["total_steps"])
    sched = get_cosine_schedule_with_warmup(opt, num_warmup_steps=warmup, num_training_steps=s["total_steps"])
    trainable = [p for _, p in named]
    losses, micro_losses, norms, lrs = [], [], [], []
    for step in range(s["total_steps"]):
        loss_sum = 0.0
        for indices in batches[step]:
            loss = micro_batch_loss(m, peft_model, text_model, examples, indices, features)
            (loss / s["gradient_accumulation"]).backward()
            micro_losses.append(loss.item())
            loss_sum += loss.item()
        total = torch.nn.utils.clip_grad_norm_(trainable, s["max_grad_norm"])
        lrs.append([grp["lr"] for grp in opt.param_groups])
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss_sum / s["gradient_accumulation"])
        norms.append(float(total))
        print(f"  step {step + 1:2d}  loss {losses[-1]:.7f}  grad norm {norms[-1]:.6f}  lr {lrs[-1][0]:.3e}",
              flush=True)
    record.update({"losses": losses, "micro_losses": micro_losses, "grad_norms": norms, "lrs": lrs,
                   "warmup_steps": warmup,
                   "decay": sorted(n for n, _ in named if n in decay),
                   "no_decay": sorted(n for n, _ in named if n not in decay)})
    return {n: p.detach().clone().contiguous() for n, p in named}


def self_check(m, examples):
    """The inputs_embeds + per_layer_inputs path against input_ids on a text-only example: the
    plumbing of the per-layer embeddings is what makes the two agree."""
    peft_model = m.language_model
    text_model = peft_model.get_base_model().model
    ex = next(e for e in examples if e["clip"] < 0)
    ids = torch.tensor([ex["ids"]])
    with torch.no_grad():
        a = peft_model(input_ids=ids, use_cache=False).logits
        emb = text_model.embed_tokens(ids)
        b = peft_model(inputs_embeds=emb, per_layer_inputs=text_model.get_per_layer_inputs(ids), use_cache=False).logits
    return float((a - b).abs().max())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", help="also copy the results here")
    args = parser.parse_args()
    os.chdir(REPO)
    torch.set_num_threads(4)
    shutil.rmtree(REL, ignore_errors=True)
    os.makedirs(REL)

    import peft
    import transformers

    write_lm(os.path.join(REL, "lm"))
    examples = make_examples()
    batches = batch_order(len(examples))
    g = torch.Generator().manual_seed(7)
    features = {"clip": [torch.randn(n, 196, DC, generator=g) for n in CLIP_FRAMES],
                "videomamba": [torch.randn(8, 196, DV, generator=g) for _ in CLIP_FRAMES]}

    m = build(torch.float32, fresh=True)
    m.language_model.save_pretrained(os.path.join(REL, "adapter"))
    readme = os.path.join(REL, "adapter", "README.md")
    if os.path.exists(readme):
        os.remove(readme)  # PEFT's model card; not part of what we read
    save_file({k: v.contiguous() for k, v in m.image_mm_projector.state_dict().items()},
              os.path.join(REL, "image_projector.safetensors"), metadata={"format": "pt"})
    save_file({k: v.contiguous() for k, v in m.mm_projector.state_dict().items()},
              os.path.join(REL, "video_projector.safetensors"), metadata={"format": "pt"})

    # The spliced labels, for the C++ side to check its splice against.
    with torch.no_grad():
        text_model = m.language_model.get_base_model().model
        for ex in examples:
            ex["labels"] = [int(t) for t in spliced(m, text_model, ex, features)[2]]
    record = {"settings": SETTINGS, "clip_frames": CLIP_FRAMES, "examples": examples, "batches": batches,
              "features": {"clip_width": DC, "videomamba_width": DV, "lm_width": H},
              "embeds_vs_ids_max_abs_logit_diff": self_check(m, examples),
              "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                           "peft": peft.__version__, "cpu_capability": str(torch.backends.cpu.get_cpu_capability())}}
    print("fp32:", flush=True)
    final = train(m, examples, batches, features, record)

    # The same run in float64 from the saved files: how far fp32 itself is from exact.
    print("float64:", flush=True)
    m64 = build(torch.float64, fresh=False)
    f64 = {k: [t.double() for t in v] for k, v in features.items()}
    rec64 = {}
    final64 = train(m64, examples, batches, f64, rec64)
    record["losses_f64"] = rec64["losses"]
    record["grad_norms_f64"] = rec64["grad_norms"]
    record["fp32_vs_f64_max_loss_diff"] = max(abs(a - b) for a, b in zip(record["losses"], rec64["losses"]))
    record["fp32_vs_f64_max_weight_diff"] = max(float((final[k].double() - final64[k]).abs().max()) for k in final)

    golden = {}
    for k in range(len(CLIP_FRAMES)):
        golden[f"features.clip.{k}"] = features["clip"][k].contiguous()
        golden[f"features.videomamba.{k}"] = features["videomamba"][k].contiguous()
    for n, t in final.items():
        golden[f"final.{n}"] = t
    save_file(golden, os.path.join(REL, "golden.safetensors"))
    def finite(x):  # JSON has no NaN: a failed number becomes null, and the C++ test says so
        if isinstance(x, float):
            return x if math.isfinite(x) else None
        if isinstance(x, list):
            return [finite(v) for v in x]
        if isinstance(x, dict):
            return {k: finite(v) for k, v in x.items()}
        return x

    with open(os.path.join(REL, "expected.json"), "w") as f:
        json.dump(finite(record), f, indent=1)
        f.write("\n")

    total = 0
    for dp, _, files in os.walk(REL):
        for name in sorted(files):
            path = os.path.join(dp, name)
            total += os.path.getsize(path)
            print(f"{path}: {os.path.getsize(path)} bytes")
    print(f"total {total / 1024:.0f} KiB; fp32 vs float64: losses {record['fp32_vs_f64_max_loss_diff']:.3e}, "
          f"weights {record['fp32_vs_f64_max_weight_diff']:.3e}; "
          f"embeds vs ids {record['embeds_vs_ids_max_abs_logit_diff']:.3e}")
    if args.out:
        for dp, _, files in os.walk(REL):
            for name in files:
                src = os.path.join(dp, name)
                dst = os.path.join(args.out, os.path.relpath(src, REL))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy(src, dst)


if __name__ == "__main__":
    main()
