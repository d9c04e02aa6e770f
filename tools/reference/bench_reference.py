"""The stock Python stack (PyTorch + transformers + PEFT) on the workloads `videogemma bench model`
measures, on the same GPU, so the C++ bench can print ratios. Random weights, bf16, cuda:0, no
network. Measures:

  train_step      stage-3 LoRA step at B x 2048 tokens: image ETP over 8 CLIP frames (8 x 144
                  tokens) and video ETP over 2 VideoMamba chunks (2 x 49) spliced at positions
                  16..1265, Gemma 3n E2B forward with the model's own loss on the text positions,
                  backward, AdamW over LoRA (r 64, alpha 128, dropout 0.05) + both projectors.
                  Gradient checkpointing on (use_reentrant=False) unless --no-checkpointing.
  prefill         no-grad forward of 256 prompt tokens, use_cache=True, LoRA unmerged; only the
                  last position's logits are computed (logits_to_keep=1, as generate's prefill).
  decode          generate 64 greedy tokens after a 256-token prompt, static cache (transformers
                  compiles that path itself), LoRA merged into the weights (merge_and_unload).
  decode_dynamic  the same with the default dynamic cache.
  encode          CLIP ViT-B/16 at 224 over N frames (hidden_states[-2] without CLS, all 12
                  layers run as in Mobile-VideoGPT) + the image ETP, seconds per clip.
  encode_videomamba  recorded as unavailable: no stock VideoMamba here (mamba-ssm).

Run on the GPU machine (torch, transformers 5.x, peft installed):
    python3 tools/reference/bench_reference.py --out ref.json
        [--train-batches 1,2,4,8] [--iters 5] [--only train_step,prefill,decode,encode]
        [--lora-targets q_proj,k_proj,v_proj,o_proj] [--no-checkpointing] [--merge]
        [--prefill-batches 1,16] [--decode-batches 1,16] [--encode-frames 8,16] [--allow-mm-ids]
--merge keeps the results already in --out that this run does not measure again, so a long run
can be split (e.g. --only decode in a second call). The JSON is rewritten (atomically) after every
workload, so a crash keeps what was measured before it. Timing: CUDA events, 2 warm-ups then
--iters timed runs (decode: 1 warm-up, which also compiles, then 2 timed calls); peak memory is
torch.cuda.max_memory_allocated() after reset_peak_memory_stats() before the warm-ups, so it
includes the weights resident at that point.

Notes on the stock stack:
- Per-layer embeddings (PLE): transformers' Gemma 3n forward takes exactly one of input_ids and
  inputs_embeds; with inputs_embeds alone it drops the token part of the PLE. The visual positions
  are spliced embeddings, so the token part is passed as `per_layer_inputs` (PLE id 0 at visual
  positions), as make_stage3_parity.py does; a probe checks it (JSON "ple_token_part").
- Decode suppresses the ids >= 262144 (the 256 vision/audio ids, generate's suppress_tokens): with
  random weights greedy decode can pick one, and the text model's unguarded PLE gather then raises
  a device-side assert ("index out of bounds"; the likely cause of the B=16 static-cache crash in
  specs/performance-and-metrics.md §1c), which poisons the CUDA context for every later workload.
  --allow-mm-ids turns the suppression off. Decode runs last for the same reason.
"""
import argparse
import gc
import importlib.util
import json
import os
import statistics
import sys
import time
import traceback

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from make_etp_goldens import ETProjector  # noqa: E402
from make_gemma3n_goldens import make_config  # noqa: E402

# (These imports turn TF32 off for the golden generators; nothing here runs in float32, so it does
# not change what is measured.)

BF16 = torch.bfloat16
D = 2048                       # LM hidden size
VP = 262_144                   # vocab_size_per_layer_input: text ids, and the PLE table's rows
V = 262_400                    # full vocab (text + 128 vision + 128 audio ids)
SEQ, PREFIX = 2048, 16         # training sequence, text tokens before the visual block
IMAGE_FRAMES, IMAGE_TOKENS = 8, 144   # image ETP: 14x14 CLIP patches pooled to 12x12, per frame
VIDEO_CHUNKS, VIDEO_TOKENS = 2, 49    # video ETP: 2 chunks of 4 frames, pooled to 7x7 per chunk
VISUAL = IMAGE_FRAMES * IMAGE_TOKENS + VIDEO_CHUNKS * VIDEO_TOKENS  # 1250
PROMPT, NEW = 256, 64
LR = 2e-4


def e2b_config():
    """Gemma 3n E2B text config (specs/gemma3n.md §1.1)."""
    L = 30
    return make_config(
        vocab_size=V, vocab_size_per_layer_input=VP, hidden_size=D, hidden_size_per_layer_input=256,
        intermediate_size=[8192] * L, num_hidden_layers=L, num_attention_heads=8, num_key_value_heads=2,
        head_dim=256, hidden_activation="gelu_pytorch_tanh", max_position_embeddings=32768, rms_norm_eps=1e-6,
        sliding_window=512, layer_types=["full_attention" if i % 5 == 4 else "sliding_attention" for i in range(L)],
        final_logit_softcapping=30.0, altup_active_idx=0, altup_coef_clip=120.0, altup_correct_scale=True,
        altup_num_inputs=4, num_kv_shared_layers=10, laurel_rank=64,
        activation_sparsity_pattern=[0.95] * 10 + [0.0] * 20,
        pad_token_id=0, eos_token_id=1, bos_token_id=2, tie_word_embeddings=True)


def free():
    gc.collect()
    torch.cuda.empty_cache()


def cuda_times(fn, warmup, iters):
    """Seconds per call from CUDA events. No synchronisation between timed calls: each start event
    fires when the GPU reaches it, so back-to-back steps are timed on the GPU's own timeline."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(iters)]
    for start, end in events:
        start.record()
        fn()
        end.record()
    torch.cuda.synchronize()
    return [start.elapsed_time(end) / 1000.0 for start, end in events]


def summary(times, work, rate="tokens_per_s"):
    """work: tokens (or frames) per call, for the rate at the mean."""
    mean = statistics.fmean(times)
    return {"seconds_mean": mean, "seconds_std": statistics.stdev(times) if len(times) > 1 else 0.0,
            "iters": len(times), rate: work / mean,
            "peak_gib": torch.cuda.max_memory_allocated() / 2**30,
            "peak_reserved_gib": torch.cuda.max_memory_reserved() / 2**30}


class Report:
    """Collects results, prints one table row per result and rewrites the JSON after each."""

    def __init__(self, path, header, merge):
        self.path, self.header, self.results = path, header, []
        self.kept = []
        if merge and os.path.exists(path):
            with open(path) as f:
                old = json.load(f)
            self.kept = old.pop("results", [])
            for k, v in old.items():  # e.g. lm_parameters when this run only encodes
                if header.get(k) is None:
                    header[k] = v
        print(f"{'workload':<17} {'config':<40} {'status':<8} {'mean s':>9} {'std s':>8} {'rate':>18} "
              f"{'peak GiB':>8}", flush=True)

    def add(self, r):
        self.results.append(r)
        if r["status"] == "ok":
            rate, unit = (r["frames_per_s"], "frame/s") if "frames_per_s" in r else (r["tokens_per_s"], "tok/s")
            print(f"{r['name']:<17} {r['config']:<40} {'ok':<8} {r['seconds_mean']:>9.4f} {r['seconds_std']:>8.4f} "
                  f"{rate:>10.1f} {unit:<7} {r['peak_gib']:>8.2f}", flush=True)
        else:
            print(f"{r['name']:<17} {r.get('config', ''):<40} {r['status']}", flush=True)
        self.write()

    def write(self):
        measured = {(r["name"], r.get("config")) for r in self.results}
        kept = [r for r in self.kept if (r["name"], r.get("config")) not in measured]
        doc = dict(self.header, results=kept + self.results)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        os.replace(tmp, self.path)


def run_case(report, base, fn):
    """Runs one workload; an OOM or any other failure becomes its status, and the run goes on."""
    try:
        r = dict(base, status="ok", **fn())
    except torch.cuda.OutOfMemoryError:
        r = dict(base, status="oom")
    except Exception as e:  # noqa: BLE001 (one failing workload must not end the run)
        traceback.print_exc(file=sys.stderr)
        lines = str(e).strip().splitlines()
        r = dict(base, status=f"error: {type(e).__name__}: {lines[0] if lines else ''}")
    # Outside the except block: the traceback (and the failed step's tensors) is gone by now.
    free()
    report.add(r)


def per_layer_token_part(text_model, ids):
    try:
        return text_model.get_per_layer_inputs(ids)
    except TypeError:  # later signature: get_per_layer_inputs(input_ids, inputs_embeds)
        return text_model.get_per_layer_inputs(ids, None)


class LanguageStack:
    """Gemma 3n E2B + PEFT LoRA + both ETP projectors, built once on the GPU."""

    def __init__(self, args):
        from peft import LoraConfig, get_peft_model
        from transformers import Gemma3nForCausalLM

        torch.manual_seed(0)
        # Built on the GPU: 4.4 B parameters initialised on the CPU would take minutes.
        with torch.device("cuda"):
            lm = Gemma3nForCausalLM._from_config(e2b_config(), attn_implementation="sdpa", dtype=BF16)
        # The default init zeroes AltUp's correct_output_scale, which zeroes the whole per-layer
        # input branch; a real checkpoint does not (speed is the same either way, the PLE probe
        # below needs the branch alive).
        with torch.no_grad():
            for name, p in lm.named_parameters():
                if name.endswith("correct_output_scale"):
                    p.fill_(1.0)
        self.lm_parameters = sum(p.numel() for p in lm.parameters())  # tied lm_head counted once
        print(f"Gemma3nForCausalLM (E2B text): {self.lm_parameters:,} parameters (4,435,182,688 expected on "
              f"transformers 5.x, whose KV-sharing layers 20-29 have no k/v projections; 4,456,156,768 with them)",
              flush=True)
        self.text = lm.model  # Gemma3nTextModel
        lm.generation_config.eos_token_id = None  # generate exactly max_new_tokens
        lm.generation_config.pad_token_id = 0
        self.ple_kwarg, self.ple_token_part, self.ple_check = self.probe_ple(lm)
        print(f"per-layer inputs with inputs_embeds: token part {'kept' if self.ple_token_part else 'LOST'} "
              f"({self.ple_check})", flush=True)
        if not args.no_checkpointing:
            lm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        self.targets = [t for t in args.lora_targets.split(",") if t]
        config = LoraConfig(r=64, lora_alpha=128, lora_dropout=0.05, target_modules=self.targets,
                            task_type="CAUSAL_LM")
        self.peft = get_peft_model(lm, config)
        self.lora_trainable = sum(p.numel() for p in self.peft.parameters() if p.requires_grad)
        with torch.device("cuda"):
            self.image_proj = ETProjector(768, D, 12).to(BF16)
            self.video_proj = ETProjector(576, D, 7).to(BF16)
        self.projector_trainable = sum(p.numel() for m in (self.image_proj, self.video_proj) for p in m.parameters())
        print(f"LoRA r 64 on {','.join(self.targets)}: {self.lora_trainable:,} trainable; projectors "
              f"{self.projector_trainable:,}", flush=True)

    def probe_ple(self, lm):
        """Is the PLE token part honoured when passed as per_layer_inputs next to inputs_embeds?
        Its logits must equal the input_ids path's, and differ from the embeds-only path's.
        Returns (pass per_layer_inputs, token part kept, the measured differences)."""
        ids = torch.randint(3, VP, (1, 4), device="cuda")
        lm.eval()
        with torch.no_grad():
            ref = lm(input_ids=ids, use_cache=False).logits.float()
            emb = self.text.embed_tokens(ids)
            try:
                got = lm(inputs_embeds=emb, per_layer_inputs=per_layer_token_part(self.text, ids),
                         use_cache=False).logits.float()
            except (TypeError, ValueError) as e:
                return False, False, f"per_layer_inputs refused: {type(e).__name__}: {e}"
            without = lm(inputs_embeds=emb, use_cache=False).logits.float()
        diff, gap = (ref - got).abs().max().item(), (ref - without).abs().max().item()
        kept = diff == 0.0 or diff <= 0.1 * gap
        return True, kept, {"max_abs_diff_with_per_layer_inputs": diff, "max_abs_diff_embeds_only": gap}

    def ple_kwargs(self, ple_ids):
        return {"per_layer_inputs": per_layer_token_part(self.text, ple_ids)} if self.ple_kwarg else {}


def train_step_case(stack, B, args):
    lm, text = stack.peft, stack.text
    lm.train()
    torch.manual_seed(100 + B)
    ids = torch.randint(3, VP, (B, SEQ), device="cuda")
    ple_ids = ids.clone()
    ple_ids[:, PREFIX:PREFIX + VISUAL] = 0  # the VLM gives visual rows PLE id 0 (pad)
    labels = ids.clone()
    labels[:, :PREFIX + VISUAL] = -100      # loss on the text after the visual block only
    # Tower features are frozen and cached in training: fixed random tensors here.
    clip = torch.randn(B * IMAGE_FRAMES, 196, 768, device="cuda", dtype=BF16)
    videomamba = torch.randn(B * VIDEO_CHUNKS, 196, 576, device="cuda", dtype=BF16)
    params = [p for p in lm.parameters() if p.requires_grad]
    params += list(stack.image_proj.parameters()) + list(stack.video_proj.parameters())
    opt = torch.optim.AdamW(params, lr=LR)
    last = {}

    def step():
        image = stack.image_proj(clip).reshape(B, IMAGE_FRAMES * IMAGE_TOKENS, D)
        video = stack.video_proj(videomamba).reshape(B, VIDEO_CHUNKS * VIDEO_TOKENS, D)
        emb = text.embed_tokens(ids)  # scaled by sqrt(2048), as the model's own lookup
        x = torch.cat([emb[:, :PREFIX], image, video, emb[:, PREFIX + VISUAL:]], dim=1)
        out = lm(inputs_embeds=x, labels=labels, use_cache=False, **stack.ple_kwargs(ple_ids))
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        last["loss"] = out.loss.detach()

    try:
        torch.cuda.reset_peak_memory_stats()
        times = cuda_times(step, 2, args.iters)
        return dict(summary(times, B * SEQ), loss=last["loss"].item())
    finally:
        for p in params:
            p.grad = None


def prefill_case(stack, B, args):
    lm = stack.peft
    lm.eval()
    torch.manual_seed(200 + B)
    ids = torch.randint(3, VP, (B, PROMPT), device="cuda")

    def forward():
        with torch.no_grad():
            lm(input_ids=ids, use_cache=True, logits_to_keep=1)

    torch.cuda.reset_peak_memory_stats()
    return summary(cuda_times(forward, 2, args.iters), B * PROMPT)


def host_cpu():
    """The host's CPU model: generate() runs a Python loop per token, so its speed is part of the
    decode numbers (they have varied 51-95 tok/s between H100 machines while ours stayed put)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()} x{os.cpu_count()}"
    except OSError:
        pass
    return f"unknown x{os.cpu_count()}"


def decode_case(model, B, static, args):
    torch.manual_seed(300 + B)
    ids = torch.randint(3, VP, (B, PROMPT), device="cuda")
    kw = dict(attention_mask=torch.ones_like(ids), max_new_tokens=NEW, min_new_tokens=NEW, do_sample=False,
              pad_token_id=0)
    if not args.allow_mm_ids:
        kw["suppress_tokens"] = list(range(VP, V))
    if static:
        kw["cache_implementation"] = "static"
    produced = []

    def generate():
        with torch.no_grad():
            out = model.generate(ids, **kw)
        produced.append(out.shape[1] - ids.shape[1])

    torch.cuda.reset_peak_memory_stats()
    # The first call warms up (and, with the static cache, compiles); the next two are timed.
    times = cuda_times(generate, 1, 2)
    n = produced[-1]
    return dict(summary(times, B * n), new_tokens=n)


def encode_case(clip, image_proj, frames, args):
    torch.manual_seed(400 + frames)
    pixels = torch.randn(frames, 3, 224, 224, device="cuda", dtype=BF16)

    def encode():
        with torch.no_grad():
            hidden = clip(pixel_values=pixels, output_hidden_states=True).hidden_states
            image_proj(hidden[-2][:, 1:])  # layer -2 without CLS, as the VLM selects

    torch.cuda.reset_peak_memory_stats()
    return summary(cuda_times(encode, 2, args.iters), frames, rate="frames_per_s")


def encode_all(report, args):
    from transformers import CLIPVisionConfig, CLIPVisionModel

    cfg = CLIPVisionConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                           image_size=224, patch_size=16, hidden_act="quick_gelu")
    torch.manual_seed(1)
    with torch.device("cuda"):
        clip = CLIPVisionModel._from_config(cfg, attn_implementation="sdpa", dtype=BF16).eval()
        image_proj = ETProjector(768, D, 12).to(BF16).eval()
    for n in args.encode_frames:
        run_case(report, {"name": "encode", "config": f"{n} frames", "frames": n},
                 lambda: encode_case(clip, image_proj, n, args))
    status = ("unavailable: mamba-ssm is not installed" if importlib.util.find_spec("mamba_ssm") is None
              else "unavailable: not measured by this script")
    for n in args.encode_frames:  # the rows the C++ bench prints next to its own VideoMamba encode
        report.add({"name": "encode_videomamba", "config": f"{n} frames", "frames": n, "status": status})
    del clip, image_proj
    free()


def batches(text):
    return [int(x) for x in text.split(",") if x.strip()]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--train-batches", default="1,2,4,8")
    p.add_argument("--prefill-batches", default="1,16")
    p.add_argument("--decode-batches", default="1,16")
    p.add_argument("--encode-frames", default="8,16")
    p.add_argument("--iters", type=int, default=5, help="timed runs per workload (decode: always 2)")
    p.add_argument("--only", default="train_step,prefill,decode,encode")
    p.add_argument("--lora-targets", default="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
                   help="LoRA target modules (default: all seven projections, as videogemma bench model)")
    p.add_argument("--no-checkpointing", action="store_true", help="train without gradient checkpointing")
    p.add_argument("--allow-mm-ids", action="store_true",
                   help="let decode pick ids >= 262144 (reproduces the device-side PLE assert)")
    p.add_argument("--merge", action="store_true", help="keep results in --out that this run does not redo")
    args = p.parse_args()
    args.encode_frames = batches(args.encode_frames)
    only = {w.strip() for w in args.only.split(",") if w.strip()}
    unknown = only - {"train_step", "prefill", "decode", "encode"}
    if unknown:
        p.error(f"unknown workloads in --only: {sorted(unknown)}")
    if not torch.cuda.is_available():
        sys.exit("bench_reference.py needs a CUDA GPU")

    import peft
    import transformers

    header = {"stack": "transformers+peft", "torch": torch.__version__, "cuda": torch.version.cuda,
              "transformers": transformers.__version__, "peft": peft.__version__,
              "device": torch.cuda.get_device_name(0), "host_cpu": host_cpu(), "dtype": "bfloat16",
              "attention": "sdpa",
              "weights": "random", "gradient_checkpointing": not args.no_checkpointing,
              "lora": {"r": 64, "alpha": 128, "dropout": 0.05, "targets": args.lora_targets.split(",")},
              "lm_parameters": None, "lora_trainable": None, "projector_trainable": None,
              "ple_token_part": None, "decode_suppresses_ids_from": None if args.allow_mm_ids else VP}
    report = Report(args.out, header, args.merge)
    started = time.time()

    # Encode first, before the 9 GB language model exists, so its peak memory is the tower's own.
    if "encode" in only:
        encode_all(report, args)
    if only & {"train_step", "prefill", "decode"}:
        stack = LanguageStack(args)
        header.update(lm_parameters=stack.lm_parameters, lora_trainable=stack.lora_trainable,
                      projector_trainable=stack.projector_trainable, ple_token_part=stack.ple_token_part,
                      ple_check=stack.ple_check)
        report.write()
        ckpt = "" if not args.no_checkpointing else ", no checkpointing"
        for B in batches(args.train_batches) if "train_step" in only else []:
            run_case(report, {"name": "train_step", "config": f"{B}x{SEQ} ({VISUAL} visual){ckpt}", "batch": B,
                              "tokens": SEQ, "visual_tokens": VISUAL, "checkpointing": not args.no_checkpointing},
                     lambda: train_step_case(stack, B, args))
        for B in batches(args.prefill_batches) if "prefill" in only else []:
            run_case(report, {"name": "prefill", "config": f"{B}x{PROMPT}", "batch": B, "tokens": PROMPT,
                              "lora": "unmerged", "logits": "last"},
                     lambda: prefill_case(stack, B, args))
        if "decode" in only:
            # Merged in place: what is left is a plain Gemma3nForCausalLM, the same model as one built
            # without PEFT (a copy of 4.4 B parameters for the merge would cost time and 9 GB).
            model = stack.peft.merge_and_unload()
            stack.peft = None
            model.gradient_checkpointing_disable()
            model.eval()
            free()
            # Dynamic first: a device-side assert in the compiled static path would end the rest.
            for name, static in (("decode_dynamic", False), ("decode", True)):
                for B in batches(args.decode_batches):
                    run_case(report, {"name": name, "config": f"{B}x({PROMPT}+{NEW})", "batch": B, "tokens": NEW,
                                      "prompt_tokens": PROMPT, "lora": "merged",
                                      "cache": "static" if static else "dynamic"},
                             lambda: decode_case(model, B, static, args))
    print(f"wrote {args.out} ({time.time() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
