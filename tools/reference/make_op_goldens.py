"""Goldens for the core op families: elementwise, reductions, softmax, norms, matmul/linear,
indexing, the fused softcap + cross-entropy and top-k.

For every case it stores the inputs, PyTorch's float64 output, a random upstream gradient "gout"
and PyTorch autograd's input gradients "g<input>". Run on a machine with torch:

    python tools/reference/make_op_goldens.py
writes tests/data/ops/{elementwise,reduce,nn,linalg,indexing,loss}.safetensors.
"""
import torch
import torch.nn.functional as F

from golden_io import Golden, randn, uniform, forward_backward


def away_from_zero(t, margin=0.1):
    return torch.where(t >= 0, t + margin, t - margin)


def case(golden, name, fn, inputs, seed, **extra):
    """inputs: dict name -> tensor (float ones get gradients)."""
    names = list(inputs)
    tensors = [inputs[n].clone().requires_grad_(inputs[n].is_floating_point()) for n in names]
    out, gout, grads = forward_backward(fn, tensors, seed)
    stored = dict(inputs)
    stored["out"] = out
    stored["gout"] = gout
    grad_names = [n for n, t in zip(names, tensors) if t.requires_grad]
    for n, g in zip(grad_names, grads):
        stored["g" + n] = g
    stored.update(extra)
    golden.add(name, **stored)


def elementwise():
    g = Golden("ops/elementwise.safetensors")
    x = away_from_zero(randn(3, 5, 7, seed=1))
    pos = uniform(3, 5, 7, lo=0.2, hi=3.0, seed=2)
    unary = {
        "neg": (torch.neg, x), "abs": (torch.abs, x), "square": (torch.square, x),
        "sqrt": (torch.sqrt, pos), "rsqrt": (torch.rsqrt, pos), "reciprocal": (torch.reciprocal, pos),
        "exp": (torch.exp, x), "log": (torch.log, pos), "sin": (torch.sin, x), "cos": (torch.cos, x),
        "tanh": (torch.tanh, x), "sigmoid": (torch.sigmoid, x), "silu": (F.silu, x),
        "softplus": (F.softplus, x * 12.0),  # reaches past the linear threshold of 20
        "relu": (F.relu, x), "gelu": (F.gelu, x),
        "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"), x),
        "quick_gelu": (lambda t: t * torch.sigmoid(1.702 * t), x),
        "softcap": (lambda t: 2.5 * torch.tanh(t / 2.5), x * 3.0),
        "pow": (lambda t: torch.pow(t, 2.7), pos),
        "clamp": (lambda t: torch.clamp(t, -0.5, 0.7), x),
        "add_scalar": (lambda t: t + 1.5, x), "mul_scalar": (lambda t: t * -2.25, x),
    }
    for i, (name, (fn, inp)) in enumerate(unary.items()):
        case(g, name, fn, {"x": inp}, seed=100 + i)

    a = randn(3, 1, 5, seed=3)
    b = away_from_zero(randn(4, 5, seed=4))
    binary = {
        "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
        "maximum": torch.maximum, "minimum": torch.minimum,
    }
    for i, (name, fn) in enumerate(binary.items()):
        case(g, name, fn, {"a": a, "b": b}, seed=200 + i)
    case(g, "pow_tensor", torch.pow, {"a": uniform(3, 1, 5, lo=0.5, hi=2.0, seed=5), "b": randn(4, 5, seed=6)},
         seed=210)
    # maximum with ties: half the gradient to each side
    ta = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    tb = torch.tensor([1.0, 1.0, 4.0], dtype=torch.float64)
    case(g, "maximum_ties", torch.maximum, {"a": ta, "b": tb}, seed=211)
    cond = randn(3, 1, 5, seed=7) > 0
    case(g, "where", lambda a_, b_: torch.where(cond, a_, b_), {"a": randn(4, 5, seed=8), "b": randn(3, 4, 1, seed=9)},
         seed=212, cond=cond.to(torch.uint8))
    g.save()


def reductions():
    g = Golden("ops/reduce.safetensors")
    x = randn(3, 4, 5, seed=10)
    case(g, "sum_dim1", lambda t: t.sum(1), {"x": x}, seed=300)
    case(g, "sum_dims02_keep", lambda t: t.sum((0, 2), keepdim=True), {"x": x}, seed=301)
    case(g, "sum_all", lambda t: t.sum(), {"x": x}, seed=302)
    case(g, "mean_dim2", lambda t: t.mean(2), {"x": x}, seed=303)
    case(g, "mean_all", lambda t: t.mean(), {"x": x}, seed=304)
    case(g, "max_dim1", lambda t: t.max(1).values, {"x": x}, seed=305, idx=x.max(1).indices)
    case(g, "min_dim0_keep", lambda t: t.min(0, keepdim=True).values, {"x": x}, seed=306)
    case(g, "var_dim2", lambda t: t.var(2), {"x": x}, seed=307)
    case(g, "var_dim1_pop", lambda t: t.var(1, correction=0), {"x": x}, seed=308)
    case(g, "std_dim2", lambda t: t.std(2), {"x": x}, seed=309)
    case(g, "logsumexp_dim1", lambda t: torch.logsumexp(t * 10, 1), {"x": x}, seed=310)
    g.save()


def nn_ops():
    g = Golden("ops/nn.safetensors")
    x = randn(3, 4, 9, seed=20)
    case(g, "softmax_last", lambda t: torch.softmax(t, -1), {"x": x * 3}, seed=400)
    case(g, "softmax_dim1", lambda t: torch.softmax(t, 1), {"x": x}, seed=401)
    case(g, "log_softmax_last", lambda t: torch.log_softmax(t, -1), {"x": x * 3}, seed=402)
    w = 1 + 0.2 * randn(9, seed=21)
    b = 0.1 * randn(9, seed=22)
    case(g, "layer_norm", lambda t, w_, b_: F.layer_norm(t, (9,), w_, b_, 1e-5), {"x": x * 2 + 1, "w": w, "b": b},
         seed=403)
    case(g, "layer_norm_plain", lambda t: F.layer_norm(t, (9,), None, None, 1e-5), {"x": x}, seed=404)

    def rms(t, w_=None, eps=1e-6):
        y = t / torch.sqrt(t.pow(2).mean(-1, keepdim=True) + eps)
        return y * w_ if w_ is not None else y

    case(g, "rms_norm", rms, {"x": x, "w": w}, seed=405)
    case(g, "rms_norm_plain", lambda t: rms(t), {"x": x * 0.01}, seed=406)
    g.save()


def linalg():
    g = Golden("ops/linalg.safetensors")
    case(g, "matmul_broadcast_rhs", torch.matmul, {"a": randn(2, 3, 4, 5, seed=30), "b": randn(5, 6, seed=31)},
         seed=500)
    case(g, "matmul_batch_broadcast", torch.matmul, {"a": randn(3, 1, 4, 5, seed=32), "b": randn(2, 5, 6, seed=33)},
         seed=501)
    case(g, "matmul_vec_mat", torch.matmul, {"a": randn(5, seed=34), "b": randn(5, 3, seed=35)}, seed=502)
    case(g, "matmul_mat_vec", torch.matmul, {"a": randn(4, 5, seed=36), "b": randn(5, seed=37)}, seed=503)
    case(g, "linear_bias", F.linear, {"x": randn(2, 3, 7, seed=38), "w": randn(5, 7, seed=39), "b": randn(5, seed=40)},
         seed=504)
    case(g, "linear_nobias", F.linear, {"x": randn(4, 7, seed=41), "w": randn(6, 7, seed=42)}, seed=505)
    g.save()


def indexing():
    g = Golden("ops/indexing.safetensors")
    ids = torch.tensor([[3, 0, 9], [3, 7, 1]], dtype=torch.int64)
    case(g, "embedding", lambda w: F.embedding(ids, w), {"w": randn(10, 4, seed=50)}, seed=600, ids=ids)
    idx = torch.tensor([2, 0, 2, 4], dtype=torch.int64)
    case(g, "index_select_dim1", lambda t: t.index_select(1, idx), {"x": randn(3, 5, 2, seed=51)}, seed=601, idx=idx)
    case(g, "concat_dim1", lambda a, b: torch.cat([a, b], 1), {"a": randn(2, 3, 4, seed=52), "b": randn(2, 1, 4, seed=53)},
         seed=602)
    case(g, "flip_dims02", lambda t: torch.flip(t, (0, 2)), {"x": randn(2, 3, 4, seed=54)}, seed=603)
    gidx = torch.tensor([[0, 2, 2], [1, 0, 3]], dtype=torch.int64)
    case(g, "gather_dim1", lambda t: torch.gather(t, 1, gidx), {"x": randn(2, 4, seed=55)}, seed=604, idx=gidx)
    topk_x = randn(4, 9, seed=56)
    case(g, "topk3", lambda t: torch.topk(t, 3, dim=-1).values, {"x": topk_x}, seed=605,
         idx=torch.topk(topk_x, 3, dim=-1).indices)
    case(g, "topk2_smallest_dim0", lambda t: torch.topk(t, 2, dim=0, largest=False).values, {"x": topk_x}, seed=606,
         idx=torch.topk(topk_x, 2, dim=0, largest=False).indices)
    g.save()


def loss():
    g = Golden("ops/loss.safetensors")
    labels = torch.tensor([3, -100, 10, 0, 7, 7, -100], dtype=torch.int64)
    hidden = randn(7, 8, seed=60)
    weight = randn(11, 8, seed=61)

    def ce(h, w, cap, reduction):
        logits = h @ w.T
        if cap > 0:
            logits = cap * torch.tanh(logits / cap)
        return F.cross_entropy(logits, labels, ignore_index=-100, reduction=reduction)

    for name, cap, reduction in [("ce_softcap_mean", 3.0, "mean"), ("ce_plain_sum", 0.0, "sum"),
                                 ("ce_softcap_none", 3.0, "none")]:
        case(g, name, lambda h, w: ce(h, w, cap, reduction), {"h": hidden, "w": weight}, seed=700, labels=labels)
    g.save()


if __name__ == "__main__":
    torch.manual_seed(0)
    elementwise()
    reductions()
    nn_ops()
    linalg()
    indexing()
    loss()
