"""PyTorch checkpoints written by `torch.save`, read back by tests/io/pth_test.cpp without Python.

    python tools/reference/make_pth_goldens.py
writes small files (KiBs) into tests/data/io/pth/:
- all_dtypes.pth: every storage dtype with the literal values of make_io_goldens.py, plus views:
  a transposed tensor, tensors sharing one storage at different offsets, a strided and an expanded
  view, a 0-d and an empty tensor, a tensor saved from the GPU when there is one;
  all_dtypes_p4.pth is the same with pickle protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL, ...);
- nested.pth: {"model": {...}, "epoch": ..., "args": {...}} with the plain Python values a
  training checkpoint holds; module_state.pth: an nn.Module state_dict (OrderedDict + _metadata);
  parameter.pth: nn.Parameter values; from_buffer.pth: saved to a BytesIO (archive name "archive");
- random.pth + random.safetensors: the same random tensors through two writers, compared byte
  for byte by the test;
- legacy.pth: _use_new_zipfile_serialization=False;
- variants rewritten with Python's zipfile: rezipped.pth (unaligned data), zip64.pth (ZIP64
  records everywhere), compressed.pth, short_storage.pth, missing_storage.pth, big_endian.pth;
- uint16.pth (a dtype videogemma does not read), torchscript.pt (torch.jit.save, not torch.save);
- evil_*.pth: pickles whose objects would run os.system / eval or build an unknown class.
  They are only written here, never loaded: the test checks that the reader refuses them and that
  the marker file their payload would create does not appear.
"""
import collections
import io
import os
import pickletools
import struct
import sys
import zipfile
import zlib

import torch
from safetensors.torch import save_file

from golden_io import DATA

OUT = os.path.join(DATA, "io", "pth")
MARKER = "/tmp/videogemma_pth_test_marker"  # what the malicious payloads would create
DISASSEMBLY = os.environ.get("PTH_DISASSEMBLY", "/tmp/pth_disassembly.txt")


def path(name):
    return os.path.join(OUT, name)


def literal_tensors():
    # The values of make_io_goldens.py's all_dtypes.safetensors, so the two readers agree.
    return {
        "f32": torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5 - 2.0,
        "f64": torch.tensor([[1.5, -2.25, 1e-300], [3.0, 1e300, -0.0]], dtype=torch.float64),
        "bf16": torch.tensor([1.0, -2.5, 3.140625, 65280.0, -0.0], dtype=torch.bfloat16),
        "f16": torch.tensor([0.5, -1.25, 65504.0, 2.0 ** -14, 2.0 ** -24, -0.0], dtype=torch.float16),
        "i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        "i16": torch.tensor([-32768, 1234, 32767], dtype=torch.int16),
        "i32": torch.tensor([-2 ** 31, 7, 2 ** 31 - 1], dtype=torch.int32),
        "i64": torch.tensor([-2 ** 63, 42, 2 ** 63 - 1], dtype=torch.int64),
        "u8": torch.tensor([[0, 200], [255, 1]], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
        "scalar": torch.tensor(3.5, dtype=torch.float32),
        "rank5": torch.arange(2 * 1 * 3 * 1 * 2, dtype=torch.int32).reshape(2, 1, 3, 1, 2),
    }


def all_dtypes_state():
    sd = literal_tensors()
    base = torch.arange(10, dtype=torch.float32)  # one storage, four views
    sd["shared_a"] = base[2:5]  # [2, 3, 4], offset 2
    sd["shared_b"] = base[4:10].view(2, 3)  # [[4, 5, 6], [7, 8, 9]], offset 4
    sd["strided"] = base[1::3]  # [1, 4, 7], stride 3
    sd["base"] = base
    sd["transposed"] = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()  # [[0,3],[1,4],[2,5]]
    sd["expanded"] = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64).expand(2, 3)  # stride (0, 1)
    sd["scalar_i64"] = torch.tensor(-7, dtype=torch.int64)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    sd["saved_from_gpu"] = torch.tensor([1.0, 2.0], device=device)
    return sd


def nested_state():
    model = collections.OrderedDict()
    model["vision_encoder.cls_token"] = torch.tensor([[[0.25, -0.5, 1.0]]])
    model["vision_encoder.blocks.0.norm.weight"] = torch.ones(3)
    model["head.bias"] = torch.tensor([1.5], dtype=torch.bfloat16)
    return {
        "model": model,
        "epoch": 12,
        "args": {
            "lr": 1e-4,
            "name": "videomamba",
            "tags": ["a", "b"],
            "flag": True,
            "off": False,
            "nothing": None,
            "pair": (1, 2.5),
            "neg": -5,
            "big": 2 ** 40,
            "huge": 2 ** 70,
            "raw": b"ab\xff",
            "dtype": torch.float16,
            "device": torch.device("cuda", 0),
            "ids": {3, 4},
        },
    }


def module_state():
    m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2), torch.nn.BatchNorm1d(2))
    with torch.no_grad():
        m[0].weight.copy_(torch.arange(6, dtype=torch.float32).reshape(2, 3) / 8)
        m[0].bias.copy_(torch.tensor([0.5, -0.25]))
        m[1].weight.copy_(torch.tensor([2.0, 3.0]))
        m[1].bias.copy_(torch.tensor([-1.0, 1.0]))
        m[2].running_mean.copy_(torch.tensor([0.125, 0.75]))
        m[2].num_batches_tracked.fill_(3)
    return m.state_dict()


class System:
    def __reduce__(self):
        return (os.system, ("touch " + MARKER,))


class Eval:
    def __reduce__(self):
        return (eval, ("open(%r, 'w').close()" % MARKER,))


class Unknown:
    def __init__(self):
        self.x = 1


def rezip(src, dst, transform=lambda name, data: data, compression=zipfile.ZIP_STORED):
    """Rewrites an archive with Python's zipfile (no 64-byte alignment), changing entries on the way."""
    with zipfile.ZipFile(src) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(dst, "w", compression=compression) as z:
        for name, data in items:
            data = transform(name, data)
            if data is not None:
                z.writestr(name, data)


def write_zip64(src, dst):
    """The entries of `src` in an archive that uses every ZIP64 record: 0xFFFFFFFF sizes and offsets
    with ZIP64 extra fields in the local and central headers, a ZIP64 end record and its locator.
    Data stays 64-byte aligned through a padding extra field, as torch's writer does."""
    with zipfile.ZipFile(src) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    out, central = bytearray(), bytearray()
    for name, data in items:
        nb = name.encode()
        offset = len(out)
        local64 = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        pad = (-(offset + 30 + len(nb) + len(local64) + 4)) % 64
        extra = local64 + struct.pack("<HH", 0x4246, pad) + b"Z" * pad
        crc = zlib.crc32(data)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(nb),
                           len(extra))
        out += nb + extra + data
        central64 = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(nb), len(central64), 0, 0, 0, 0, 0xFFFFFFFF)
        central += nb + central64
    cd_offset = len(out)
    out += central
    eocd64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(items), len(items), len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(dst, "wb") as f:
        f.write(out)
    with zipfile.ZipFile(dst) as z:  # Python's reader agrees
        assert [z.read(n) for n, _ in items] == [d for _, d in items]


def attempt(what, fn):
    """Runs one step; a failure is reported and the other goldens are still written."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - report and go on
        print(f"FAILED {what}: {type(e).__name__}: {e}")


def disassemble(name, log):
    p = path(name)
    log.write(f"===== {name} ({os.path.getsize(p)} bytes)\n")
    with open(p, "rb") as f:
        raw = f.read()
    log.write(f"zip64 end record: {b'PK' + bytes([6, 6]) in raw}\n")
    if zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as z:
            for i in z.infolist():
                local = raw[i.header_offset:i.header_offset + 30]
                n, m = struct.unpack("<HH", local[26:30])
                start = i.header_offset + 30 + n + m
                log.write(f"  {i.filename} size {i.file_size} method {i.compress_type} data at {start} "
                          f"(mod 64 = {start % 64}) extra {len(i.extra)}\n")
            pkl = [n for n in z.namelist() if n.endswith("data.pkl")][0]
            pickletools.dis(z.read(pkl), out=log)
    else:
        f = io.BytesIO(raw)
        for _ in range(5):  # magic, protocol, sys_info, the object, storage keys
            pickletools.dis(f, out=log)
        log.write(f"storages start at byte {f.tell()} of {len(raw)}\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    print("torch", torch.__version__, "python", sys.version.split()[0], "default protocol",
          getattr(torch.serialization, "DEFAULT_PROTOCOL", "?"))

    torch.save(all_dtypes_state(), path("all_dtypes.pth"))
    torch.save(all_dtypes_state(), path("all_dtypes_p4.pth"), pickle_protocol=4)
    torch.save(nested_state(), path("nested.pth"))
    torch.save(module_state(), path("module_state.pth"))
    torch.save({"weight": torch.nn.Parameter(torch.tensor([1.0, 2.0])),
                "frozen": torch.nn.Parameter(torch.tensor([[3.0]], dtype=torch.float64), requires_grad=False),
                "grad_tensor": torch.tensor([4.0], requires_grad=True)}, path("parameter.pth"))
    buf = io.BytesIO()
    torch.save({"w": torch.tensor([5.0, 6.0])}, buf)
    with open(path("from_buffer.pth"), "wb") as f:
        f.write(buf.getvalue())

    g = torch.Generator().manual_seed(7)
    shapes = [(16, 8), (8,), (3, 4, 5), (1, 1, 7), (32,), (2, 3, 4, 5), (5, 5)]
    dtypes = [torch.float32, torch.bfloat16, torch.float16, torch.float64]
    rand = {}
    for i, shape in enumerate(shapes):
        for dt in dtypes:
            rand[f"layers.{i}.{str(dt).split('.')[1]}"] = torch.randn(shape, generator=g).to(dt)
    rand["ids"] = torch.randint(-1000, 1000, (6, 3), generator=g, dtype=torch.int64)
    rand["layers.0.float32_t"] = rand["layers.0.float32"].t()  # a non-contiguous view of a saved tensor
    torch.save(rand, path("random.pth"))
    save_file({k: v.contiguous().clone() for k, v in rand.items()}, path("random.safetensors"))

    legacy = {
        "f32": torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5 - 2.0,
        "bf16": torch.tensor([1.0, -2.5, 3.140625, 65280.0, -0.0], dtype=torch.bfloat16),
        "i64": torch.tensor([-2 ** 63, 42, 2 ** 63 - 1], dtype=torch.int64),
        "scalar": torch.tensor(3.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }
    base = torch.arange(10, dtype=torch.float32)
    legacy["shared_a"], legacy["shared_b"] = base[2:5], base[4:10].view(2, 3)
    legacy["transposed"] = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()
    attempt("legacy", lambda: torch.save({"model": legacy, "epoch": 3}, path("legacy.pth"),
                                         _use_new_zipfile_serialization=False))
    attempt("uint16", lambda: torch.save({"u16": torch.tensor([1, 2], dtype=torch.uint16)}, path("uint16.pth")))
    attempt("torchscript", lambda: torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path("torchscript.pt")))

    torch.save({"w": torch.ones(2), "evil": System()}, path("evil_system.pth"))
    torch.save({"evil": System()}, path("evil_system_p4.pth"), pickle_protocol=4)
    torch.save({"w": torch.ones(2), "evil": Eval()}, path("evil_eval.pth"))
    torch.save({"w": torch.ones(2), "evil": Unknown()}, path("evil_class.pth"))
    for name in ["evil_system.pth", "evil_eval.pth", "evil_class.pth"]:
        try:
            torch.load(path(name), weights_only=True)
            print("torch.load(weights_only=True) ACCEPTED", name)
        except Exception as e:  # expected: torch refuses too
            print("torch.load(weights_only=True) refuses", name, "-", str(e).splitlines()[0][:120])
    assert not os.path.exists(MARKER)

    rezip(path("all_dtypes.pth"), path("rezipped.pth"))
    attempt("zip64", lambda: write_zip64(path("all_dtypes.pth"), path("zip64.pth")))
    rezip(path("all_dtypes.pth"), path("compressed.pth"), compression=zipfile.ZIP_DEFLATED)
    torch.save({"w": torch.arange(4, dtype=torch.float32)}, path("small.pth"))
    rezip(path("small.pth"), path("short_storage.pth"),
          lambda n, d: d[:-4] if n.endswith("/data/0") else d)
    rezip(path("small.pth"), path("missing_storage.pth"), lambda n, d: None if n.endswith("/data/0") else d)
    rezip(path("small.pth"), path("big_endian.pth"), lambda n, d: b"big" if n.endswith("/byteorder") else d)

    # Sanity: torch reads back what it wrote, and the rewritten archives.
    for name in ["all_dtypes.pth", "rezipped.pth", "zip64.pth", "legacy.pth", "nested.pth"]:
        attempt("torch.load " + name, lambda: torch.load(path(name), weights_only=False))

    with open(DISASSEMBLY, "w") as log:
        for name in ["all_dtypes.pth", "all_dtypes_p4.pth", "nested.pth", "module_state.pth", "parameter.pth",
                     "uint16.pth", "legacy.pth", "evil_system.pth", "evil_eval.pth", "evil_class.pth",
                     "evil_system_p4.pth", "small.pth", "from_buffer.pth", "torchscript.pt"]:
            attempt("disassemble " + name, lambda: disassemble(name, log))
    for name in sorted(os.listdir(OUT)):
        print(f"wrote {name} {os.path.getsize(path(name))} bytes")


if __name__ == "__main__":
    main()
