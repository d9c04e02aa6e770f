"""Training references: torch.optim.AdamW with clip_grad_norm_ and transformers' cosine schedule,
transformers' schedules, warmup ratio and decay-parameter names, PEFT adapters on the tiny Gemma 3n.

Writes under tests/data/train/ (all on the CPU, transformers' eager attention, TF32 off):
  adamw_golden.safetensors   two parameter groups (one without weight decay) over 14 steps, f32 and
                             f64: initial parameters, each step's gradients before clipping, total
                             norms, learning rates, parameters and optimizer state after each step;
                             and "pure" AdamW on 1000 values (no clipping, constant lr) to isolate
                             the optimizer's rounding
  reference.json             transformers' schedules for several (warmup, total) pairs, warmup steps
                             from ratios, Trainer.get_decay_parameter_names on the tiny model (with and
                             without PEFT) and on a projector/CLIP-like module, kaiming_uniform_ bounds
  peft_theirs/               PEFT's own save_pretrained of a LoRA on the tiny model with the module set
                             of peft_ours (r 4, alpha 8, dropout 0.05, B re-drawn so it is not zero)
  peft_golden.safetensors    ids [2, 12] and fp32 logits: "base", "ours" / "ours_rslora" (PEFT's
                             PeftModel.from_pretrained of our folders peft_ours and peft_ours_rslora),
                             "theirs" (PEFT's model above), "merged" (transformers loading the folder our
                             `videogemma merge` wrote, when --merged is given), "merged_sharded_bf16"
                             (transformers loading, in fp32, the bf16 shards `videogemma merge --dtype bf16
                             --max-shard-size 0.0006` wrote, when --merged-sharded is given), and
                             "peft_merged.<name>" (two weights of PEFT's merge_and_unload of peft_ours)

Usage: python tools/reference/make_train_goldens.py [--merged DIR] [--merged-sharded DIR] [--out DIR]
--out also receives copies of the goldens and info.txt (library versions and the source of the
functions reproduced, for docs/training.md).
"""
import argparse
import inspect
import json
import math
import os
import shutil
import sys
import tempfile
import traceback

import torch
from safetensors.torch import save_file

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(REPO, "tests", "data")
OUT = os.path.join(DATA, "train")
TINY = os.path.join("tests", "data", "gemma3n", "tiny")  # relative: PEFT records it in its config

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

INFO = []


def info(title, text):
    INFO.append(f"===== {title}\n{text}\n")


def source_of(title, obj):
    try:
        info(title, inspect.getsource(obj))
    except Exception as e:  # noqa: BLE001 - a missing function is worth knowing, not fatal
        info(title, f"(no source: {e!r})")


def section(fn):
    try:
        fn()
    except Exception:  # noqa: BLE001
        info(f"FAILED {fn.__name__}", traceback.format_exc())
        print(traceback.format_exc(), file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# AdamW + clipping + cosine schedule

ADAM_SHAPES = {"w1": (5, 7), "b1": (5,), "w2": (9, 17), "norm": (4,)}
ADAM_STEPS = 14  # the schedule ends at 12; two more steps past it
GRAD_SCALES = [0.05, 4.0, 0.3, 20.0, 1.0, 0.02, 7.0, 0.5, 2.0, 0.1, 30.0, 0.8, 1.5, 0.01]


def adamw_case(dtype, tensors, prefix):
    from transformers import get_cosine_schedule_with_warmup

    g = torch.Generator().manual_seed(7)
    params = {n: torch.nn.Parameter(torch.randn(s, generator=g, dtype=dtype)) for n, s in ADAM_SHAPES.items()}
    for n, p in params.items():
        tensors[f"{prefix}.init.{n}"] = p.detach().clone()
    opt = torch.optim.AdamW(
        [
            {"params": [params["w1"], params["w2"]], "lr": 1e-2, "weight_decay": 0.1},
            {"params": [params["b1"], params["norm"]], "lr": 5e-3, "weight_decay": 0.0, "betas": (0.8, 0.99),
             "eps": 1e-6},
        ],
        foreach=False,
    )
    sched = get_cosine_schedule_with_warmup(opt, num_warmup_steps=3, num_training_steps=12)
    for step in range(ADAM_STEPS):
        for n, p in params.items():
            if step == 5 and n == "b1":
                p.grad = None  # no gradient this step: AdamW leaves it and its state alone
                continue
            p.grad = torch.randn(p.shape, generator=g, dtype=dtype) * GRAD_SCALES[step]
            tensors[f"{prefix}.step{step}.grad.{n}"] = p.grad.detach().clone()
        total = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm=1.0)
        tensors[f"{prefix}.step{step}.total_norm"] = total.detach().reshape(1).clone()
        tensors[f"{prefix}.step{step}.lr"] = torch.tensor([grp["lr"] for grp in opt.param_groups], dtype=torch.float64)
        opt.step()
        sched.step()
        for n, p in params.items():
            tensors[f"{prefix}.step{step}.param.{n}"] = p.detach().clone()
            st = opt.state[p]
            if st:
                tensors[f"{prefix}.step{step}.exp_avg.{n}"] = st["exp_avg"].clone()
                tensors[f"{prefix}.step{step}.exp_avg_sq.{n}"] = st["exp_avg_sq"].clone()
                tensors[f"{prefix}.step{step}.step.{n}"] = torch.tensor([float(st["step"])], dtype=torch.float64)


def adamw_pure_case(dtype, tensors, prefix):
    g = torch.Generator().manual_seed(8)
    p = torch.nn.Parameter(torch.randn(1000, generator=g, dtype=dtype))
    tensors[f"{prefix}.init"] = p.detach().clone()
    opt = torch.optim.AdamW([p], lr=1e-3, weight_decay=0.01, foreach=False)
    for step in range(3):
        p.grad = torch.randn(1000, generator=g, dtype=dtype) * [1.0, 1e-3, 50.0][step]
        tensors[f"{prefix}.step{step}.grad"] = p.grad.clone()
        opt.step()
        tensors[f"{prefix}.step{step}.param"] = p.detach().clone()
        tensors[f"{prefix}.step{step}.exp_avg"] = opt.state[p]["exp_avg"].clone()
        tensors[f"{prefix}.step{step}.exp_avg_sq"] = opt.state[p]["exp_avg_sq"].clone()


def make_adamw():
    tensors = {}
    for name, dtype in (("f32", torch.float32), ("f64", torch.float64)):
        adamw_case(dtype, tensors, name)
        adamw_pure_case(dtype, tensors, "pure_" + name)
    save_file(tensors, os.path.join(OUT, "adamw_golden.safetensors"))
    import torch.optim.adam as adam_module

    source_of("torch.optim.adam._single_tensor_adam", adam_module._single_tensor_adam)
    source_of("torch.optim.AdamW", torch.optim.AdamW)
    import torch.nn.utils.clip_grad as clip_module

    for name in ("clip_grad_norm_", "_get_total_norm", "_clip_grads_with_norm_", "get_total_norm",
                 "clip_grads_with_norm_"):
        if hasattr(clip_module, name):
            source_of(f"torch.nn.utils.clip_grad.{name}", getattr(clip_module, name))
    source_of("torch.Tensor.__rtruediv__", torch.Tensor.__rtruediv__)
    info("cpu capability", str(torch.backends.cpu.get_cpu_capability()))


# ---------------------------------------------------------------------------------------------
# schedules, warmup ratio, decay names, kaiming bound

REFERENCE = {}


def make_schedules():
    from transformers import get_scheduler
    import transformers.optimization as optimization

    cases = [("cosine", 0, 10), ("cosine", 3, 10), ("cosine", 5, 103), ("cosine", 10, 10), ("cosine", 1, 1),
             ("linear", 0, 7), ("linear", 4, 20), ("linear", 3, 3), ("constant_with_warmup", 6, 15),
             ("constant", 0, 5)]
    out = []
    for kind, warmup, total in cases:
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=3e-4)
        kwargs = {"num_warmup_steps": warmup, "num_training_steps": total}
        sched = get_scheduler(kind, opt, **kwargs)
        lrs = []
        for _ in range(total + 3):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        out.append({"kind": kind, "warmup": warmup, "total": total, "base_lr": 3e-4, "lrs": lrs})
    REFERENCE["schedules"] = out
    for name in ("_get_cosine_schedule_with_warmup_lr_lambda", "_get_linear_schedule_with_warmup_lr_lambda",
                 "_get_constant_schedule_with_warmup_lr_lambda"):
        source_of(f"transformers.optimization.{name}", getattr(optimization, name))

    from transformers import TrainingArguments

    source_of("TrainingArguments.get_warmup_steps", TrainingArguments.get_warmup_steps)
    ratios = [(0.05, 100), (0.07, 100), (0.03, 1000), (0.03, 333), (0.1, 7), (0.05, 1), (0.0, 50), (0.05, 140),
              (0.29, 100), (0.57, 100), (0.03, 6)]
    rows = []
    tmp = tempfile.mkdtemp()
    for ratio, total in ratios:
        row = {"ratio": ratio, "total": total, "python_ceil": math.ceil(ratio * total)}
        for how in ("warmup_ratio", "warmup_steps"):
            try:
                args = TrainingArguments(output_dir=tmp, report_to=[], **{how: ratio})
                row[how] = args.get_warmup_steps(total)
            except Exception as e:  # noqa: BLE001
                row[how] = repr(e)
        rows.append(row)
    REFERENCE["warmup"] = rows


def make_kaiming():
    rows = []
    for fan_in in (1, 3, 16, 64, 100, 2048, 16384):
        gain = torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5))
        std = gain / math.sqrt(fan_in)
        bound = math.sqrt(3.0) * std
        w = torch.empty(256, fan_in)
        torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5))
        rows.append({"fan_in": fan_in, "bound": bound, "max_abs_drawn": float(w.abs().max()),
                     "one_over_sqrt": 1.0 / math.sqrt(fan_in)})
    REFERENCE["kaiming_uniform"] = rows
    source_of("torch.nn.init.kaiming_uniform_", torch.nn.init.kaiming_uniform_)
    source_of("torch.nn.init.calculate_gain", torch.nn.init.calculate_gain)


def load_tiny():
    from transformers import Gemma3nForCausalLM

    return Gemma3nForCausalLM.from_pretrained(TINY, dtype=torch.float32, attn_implementation="eager").eval()


def make_decay_names():
    from transformers import Trainer
    import transformers.trainer_pt_utils as pt_utils

    source_of("Trainer.get_decay_parameter_names", Trainer.get_decay_parameter_names)
    source_of("trainer_pt_utils.get_parameter_names", pt_utils.get_parameter_names)
    rows = {}

    def record(tag, model):
        names = [n for n, _ in model.named_parameters()]
        decay = Trainer.get_decay_parameter_names(None, model)
        rows[tag] = {"names": names, "decay": sorted(decay)}

    record("tiny", load_tiny())
    from peft import LoraConfig, get_peft_model

    record("tiny_peft", get_peft_model(load_tiny(), LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "o_proj"],
                                                                task_type="CAUSAL_LM")))

    nn = torch.nn

    class Etp(nn.Module):
        def __init__(self):
            super().__init__()
            self.mlp = nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.Linear(6, 6))
            self.peg = nn.Sequential(nn.Conv2d(6, 6, 3, padding=1, groups=6))

    class ClipLike(nn.Module):
        def __init__(self):
            super().__init__()
            self.pre_layrnorm = nn.LayerNorm(4)
            self.post_layernorm = nn.LayerNorm(4)
            self.layer_norm1 = nn.LayerNorm(4)
            self.norm = nn.LayerNorm(4)
            self.final_norm_proj = nn.Linear(4, 4)
            self.normalizer = nn.Linear(4, 4)
            self.attn_norm = nn.Linear(4, 4)

    model = nn.Module()
    model.mm_projector = Etp()
    model.image_mm_projector = Etp()
    model.vision_tower = ClipLike()
    record("projector_clip", model)
    rows["projector_clip"]["layernorm_typed"] = sorted(
        f"vision_tower.{m}.{p}" for m in ("pre_layrnorm", "post_layernorm", "layer_norm1", "norm") for p in ("weight", "bias"))
    REFERENCE["decay_names"] = rows


# ---------------------------------------------------------------------------------------------
# PEFT

def make_peft(merged_dir, sharded_dir):
    import peft
    from peft import LoraConfig, PeftModel, get_peft_model
    from peft.tuners.lora import layer as lora_layer

    info("versions", json.dumps({"torch": torch.__version__, "peft": peft.__version__,
                                 "transformers": __import__("transformers").__version__,
                                 "safetensors": __import__("safetensors").__version__}))
    source_of("peft LoraLayer.update_layer", lora_layer.LoraLayer.update_layer)
    source_of("peft LoraLayer.reset_lora_parameters", lora_layer.LoraLayer.reset_lora_parameters)
    source_of("peft Linear.get_delta_weight", lora_layer.Linear.get_delta_weight)
    source_of("peft Linear.merge", lora_layer.Linear.merge)
    source_of("peft PeftModel.save_pretrained", PeftModel.save_pretrained)
    source_of("peft.utils.get_peft_model_state_dict", peft.utils.get_peft_model_state_dict)

    golden = {}
    ids = torch.randint(3, 512, (2, 12), generator=torch.Generator().manual_seed(11))
    golden["ids"] = ids

    def logits(model):
        with torch.no_grad():
            return model(input_ids=ids, use_cache=False).logits.detach().float().contiguous()

    golden["base.logits"] = logits(load_tiny())
    for name in ("ours", "ours_rslora"):
        folder = os.path.join("tests", "data", "train", "peft_" + name)
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = PeftModel.from_pretrained(load_tiny(), folder).eval()
        info(f"warnings loading peft_{name}", "\n".join(str(w.message) for w in caught) or "(none)")
        golden[f"{name}.logits"] = logits(model)
        # Every tensor of our file is in PEFT's model, unchanged.
        from safetensors.torch import load_file

        saved = load_file(os.path.join(folder, "adapter_model.safetensors"))
        state = {k.replace(".default", ""): v for k, v in model.state_dict().items() if "lora_" in k}
        missing = sorted(set(saved) - set(state))
        extra = sorted(set(state) - set(saved))
        worst = max(float((saved[k] - state[k]).abs().max()) for k in saved if k in state)
        info(f"PEFT loading peft_{name}", f"missing in model: {missing}\nlora tensors not in file: {extra}\n"
                                           f"max |file - loaded|: {worst}\nscaling q0: "
                                           f"{model.base_model.model.model.layers[0].self_attn.q_proj.scaling}\n"
                                           f"scaling o0: {model.base_model.model.model.layers[0].self_attn.o_proj.scaling}")
        if name == "ours":
            merged = model.merge_and_unload()
            for w in ("model.layers.0.self_attn.q_proj.weight", "model.layers.9.mlp.down_proj.weight"):
                golden[f"peft_merged.{w}"] = merged.state_dict()[w].detach().clone()

    # PEFT's own adapter for the same module set.
    config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.05,
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                        task_type="CAUSAL_LM")
    torch.manual_seed(5)
    model = get_peft_model(load_tiny(), config)
    g = torch.Generator().manual_seed(6)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    model.eval()
    golden["theirs.logits"] = logits(model)
    theirs = os.path.join(OUT, "peft_theirs")
    shutil.rmtree(theirs, ignore_errors=True)
    model.save_pretrained(theirs)
    info("peft_theirs files", json.dumps(sorted(os.listdir(theirs))))
    readme = os.path.join(theirs, "README.md")
    if os.path.exists(readme):
        os.remove(readme)  # PEFT's model card; not part of what we read

    from transformers import Gemma3nForCausalLM

    for key, folder in (("merged", merged_dir), ("merged_sharded_bf16", sharded_dir)):
        if folder:
            m = Gemma3nForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
            golden[f"{key}.logits"] = logits(m)
            info(f"transformers loading {key}", json.dumps(sorted(os.listdir(folder))))
    save_file(golden, os.path.join(OUT, "peft_golden.safetensors"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--merged", help="a folder `videogemma merge` wrote from tiny + peft_ours")
    parser.add_argument("--merged-sharded", help="the same with --dtype bf16 and small shards")
    parser.add_argument("--out", help="also copy the results here")
    args = parser.parse_args()
    os.chdir(REPO)
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(4)
    section(make_adamw)
    section(make_schedules)
    section(make_kaiming)
    section(make_decay_names)
    section(lambda: make_peft(args.merged, args.merged_sharded))
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(REFERENCE, f, indent=1)
    if args.out:
        os.makedirs(os.path.join(args.out, "peft_theirs"), exist_ok=True)
        for name in ("adamw_golden.safetensors", "reference.json", "peft_golden.safetensors",
                     "peft_theirs/adapter_config.json", "peft_theirs/adapter_model.safetensors"):
            src = os.path.join(OUT, name)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(args.out, name))
        with open(os.path.join(args.out, "info.txt"), "w") as f:
            f.write("\n".join(INFO))
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"tests/data/train: {total / 1024:.0f} KiB", file=sys.stderr)


if __name__ == "__main__":
    main()
