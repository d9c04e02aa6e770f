"""Goldens for image preprocessing (src/media/resize.h, src/media/preprocess.h): Pillow's BICUBIC
resize, OpenCV's cv2.resize INTER_LINEAR, the HF CLIP image processor (PIL path) and the
VideoMamba frame normalisation of Mobile-VideoGPT.

Inputs are seeded uint8 images that tests/media/resize_test.cpp regenerates bit for bit
(`seeded_image`: splitmix64 of the element index, top byte); the small ones are stored too, the
360x640 one ("big", a gradient plus noise) only by its first and last rows. Outputs of the big
case are stored as bands of rows to keep the file small. Tensor names:

    img_<name>                     u8  [H, W, C]   an input
    pil_<name>_<h>x<w>             u8  [h, w, C]   Image.fromarray(img).resize((w, h), BICUBIC)
    cv_<name>_<h>x<w>              u8  [h, w, C]   cv2.resize(img, (w, h))  (INTER_LINEAR)
    pilrows_big_<h>x<w>, .. .rows  the same for the big image, rows `rows` only
    clip_<name>.out, .rows         f32 [3, R, 224] CLIPImageProcessorPil()(img) pixel values, rows `rows`
    vm_<name>.out, .out_f16, .rows f32/f16 [3, R, 224] (cv2.resize(img,(224,224))/255 - mean)/std, rows
                                   `rows`; out_f16 is torch.from_numpy(float64).half() (the reference's cast)

Library versions and OpenCV's CPU dispatch line go into the file's metadata. Run where Pillow,
opencv-python, transformers and torch are (the GPU machine):

    python tools/reference/make_media_goldens.py
writes tests/data/media/resize.safetensors.
"""
import os
import sys
import traceback

import numpy as np
import torch
from safetensors.torch import save_file

from golden_io import DATA

import cv2
import PIL
from PIL import Image

BICUBIC = getattr(Image, "Resampling", Image).BICUBIC
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
MASK64 = (1 << 64) - 1


def seeded_image(h, w, c, seed):
    """splitmix64(index + seed * golden ratio), top byte. tests/media/resize_test.cpp has the twin."""
    offset = np.uint64((seed * 0x9E3779B97F4A7C15) & MASK64)
    with np.errstate(over="ignore"):
        z = np.arange(h * w * c, dtype=np.uint64) + offset
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(56)).astype(np.uint8).reshape(h, w, c)


def big_image():
    """360x640 RGB: a diagonal colour gradient plus noise, like a real frame's mix of flat and busy areas."""
    h, w = 360, 640
    noise = seeded_image(h, w, 3, 42).astype(np.int64)
    y = np.arange(h)[:, None, None]
    x = np.arange(w)[None, :, None]
    c = np.arange(3)[None, None, :]
    return ((x * 7 + y * 3 + c * 50) % 192 + (noise >> 2)).astype(np.uint8)


INPUTS = {
    "a": seeded_image(37, 50, 3, 1),
    "b": seeded_image(50, 37, 3, 2),
    "c": seeded_image(32, 32, 3, 3),
    "d": seeded_image(31, 31, 3, 4),
    "e": seeded_image(7, 300, 3, 5),
    "f": seeded_image(24, 30, 3, 6),
    "g": seeded_image(2, 3, 3, 7),
    "l": seeded_image(29, 41, 1, 8),
}

# (input, out_h, out_w): downscales with non-integer factors, exact 2x/3x/4x, upscales, one axis only.
PIL_CASES = [
    ("a", 18, 25), ("a", 74, 100), ("a", 29, 73), ("a", 37, 20), ("a", 10, 50), ("a", 37, 50),
    ("b", 24, 17), ("b", 101, 75),
    ("c", 16, 16), ("c", 8, 8), ("c", 45, 45), ("c", 11, 11),
    ("d", 13, 17), ("d", 62, 62), ("d", 10, 10),
    ("e", 7, 100), ("e", 3, 224), ("e", 20, 300), ("e", 14, 37),
    ("f", 8, 10), ("f", 12, 15), ("f", 48, 60), ("f", 72, 90),
    ("g", 5, 7), ("g", 1, 1), ("g", 4, 6),
    ("l", 14, 20), ("l", 58, 82), ("l", 29, 13),
]
CV_CASES = [
    ("a", 18, 25), ("a", 74, 100), ("a", 111, 150), ("a", 29, 73), ("a", 37, 20), ("a", 10, 50), ("a", 37, 50),
    ("b", 25, 18), ("b", 100, 74),
    ("c", 16, 16), ("c", 8, 8), ("c", 11, 11), ("c", 64, 64), ("c", 96, 96),
    ("d", 13, 17), ("d", 62, 62),
    ("e", 7, 100), ("e", 3, 150), ("e", 14, 300), ("e", 7, 150),
    ("f", 8, 10), ("f", 12, 15), ("f", 48, 60), ("f", 72, 90), ("f", 12, 30),
    ("g", 5, 7), ("g", 1, 1), ("g", 4, 6),
    ("l", 14, 20), ("l", 58, 82), ("l", 29, 13),
]
BAND_ROWS = np.array(list(range(0, 4)) + list(range(110, 114)) + list(range(220, 224)), dtype=np.int64)
BIG_PIL_ROWS = np.array(list(range(0, 8)) + list(range(108, 116)) + list(range(216, 224)), dtype=np.int64)


def T(array):
    """A tensor owning a C-contiguous copy (safetensors refuses tensors that share memory)."""
    return torch.from_numpy(np.array(array, copy=True, order="C"))


def pil_resize(img, h, w):
    if img.shape[2] == 1:
        return np.asarray(Image.fromarray(img[:, :, 0]).resize((w, h), BICUBIC))[:, :, None]
    return np.asarray(Image.fromarray(img).resize((w, h), BICUBIC))


def cv_resize(img, h, w):
    if img.shape[2] == 1:
        return cv2.resize(np.ascontiguousarray(img[:, :, 0]), (w, h))[:, :, None]
    return cv2.resize(img, (w, h))


def clip_by_hand(img):
    """resize (shortest edge 224, long = int(224 * long / short)) -> crop 224 -> *1/255 (f64 -> f32) -> normalize (f32)."""
    h, w = img.shape[:2]
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(224 * long / short)
    nh, nw = (new_long, 224) if w <= h else (224, new_long)
    r = pil_resize(img, nh, nw)
    top, left = (nh - 224) // 2, (nw - 224) // 2
    x = r[top:top + 224, left:left + 224].astype(np.float64) * (1 / 255)
    x = x.astype(np.float32)
    x = (x - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)
    return x.transpose(2, 0, 1), (nh, nw)


def clip_processor():
    """The PIL-backed CLIP image processor with its default (openai/clip-vit-base-patch16) settings."""
    try:
        from transformers import CLIPImageProcessorPil as cls
    except ImportError:
        try:
            from transformers.models.clip.image_processing_clip_pil import CLIPImageProcessorPil as cls
        except ImportError:
            from transformers import CLIPImageProcessor as cls  # transformers 4.x: the PIL path
    return cls(), cls.__name__


def clip_reference(proc, img):
    last = None
    for images in (img, Image.fromarray(img)):
        for tensors in ("np", "pt"):
            try:
                out = proc(images=images, return_tensors=tensors)["pixel_values"][0]
                return np.asarray(out.numpy() if hasattr(out, "numpy") else out, dtype=np.float32)
            except Exception as e:  # noqa: BLE001 - try the next calling convention
                last = e
    raise last


def main():
    tensors = {}
    meta = {
        "numpy": np.__version__, "pillow": PIL.__version__, "opencv": cv2.__version__, "torch": torch.__version__,
    }
    build = cv2.getBuildInformation()
    meta["opencv_cpu"] = " | ".join(l.strip() for l in build.splitlines() if "Baseline" in l or "Dispatched" in l)
    print("versions:", meta, file=sys.stderr)

    for name, img in INPUTS.items():
        tensors[f"img_{name}"] = T(img)
    big = big_image()
    tensors["img_big.first_row"] = T(big[0])
    tensors["img_big.last_row"] = T(big[-1])

    for name, h, w in PIL_CASES:
        tensors[f"pil_{name}_{h}x{w}"] = T(pil_resize(INPUTS[name], h, w))
    for name, h, w in CV_CASES:
        tensors[f"cv_{name}_{h}x{w}"] = T(cv_resize(INPUTS[name], h, w))

    pil_big = pil_resize(big, 224, 398)
    tensors["pilrows_big_224x398"] = T(pil_big[BIG_PIL_ROWS])
    tensors["pilrows_big_224x398.rows"] = T(BIG_PIL_ROWS)
    tensors["cv_big_224x224"] = T(cv_resize(big, 224, 224))

    # CLIP: the processor's output where it can be called, else the hand pipeline (noted in metadata).
    clip_inputs = {"a": INPUTS["a"], "b": INPUTS["b"], "d": INPUTS["d"], "e": INPUTS["e"], "big": big}
    try:
        proc, proc_name = clip_processor()
        import transformers
        meta["transformers"] = transformers.__version__
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        proc, proc_name = None, "none"
    meta["clip_processor"] = proc_name
    for name, img in clip_inputs.items():
        hand, resized = clip_by_hand(img)
        out = hand
        if proc is not None:
            try:
                out = clip_reference(proc, img)
                diff = float(np.abs(out - hand).max())
                meta[f"clip_{name}_processor_vs_hand_max_abs_diff"] = repr(diff)
                print(f"clip {name}: resized to {resized}, processor vs hand max |diff| {diff}", file=sys.stderr)
            except Exception:  # noqa: BLE001
                traceback.print_exc()
                meta[f"clip_{name}_source"] = "hand pipeline (processor call failed)"
        assert out.shape == (3, 224, 224), out.shape
        tensors[f"clip_{name}.out"] = T(out[:, BAND_ROWS, :])
        tensors[f"clip_{name}.rows"] = T(BAND_ROWS)

    # VideoMamba: cv2.resize to 224x224, /255 and normalise in float64; the reference casts with .half().
    for name, img in {"a": INPUTS["a"], "big": big}.items():
        x = cv_resize(img, 224, 224).astype(np.float64) / 255.0
        x = (x - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
        x = x.transpose(2, 0, 1)[:, BAND_ROWS, :]
        half_torch = T(x).half()
        direct = torch.from_numpy(x.astype(np.float16))
        meta[f"vm_{name}_torch_half_vs_numpy_direct_differences"] = str(int((half_torch != direct).sum()))
        tensors[f"vm_{name}.out"] = T(x.astype(np.float32))
        tensors[f"vm_{name}.out_f16"] = half_torch
        tensors[f"vm_{name}.rows"] = T(BAND_ROWS)

    path = os.path.join(DATA, "media", "resize.safetensors")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file(tensors, path, metadata=meta)
    print(f"wrote {path}: {len(tensors)} tensors, {os.path.getsize(path) / 1024:.1f} KiB", file=sys.stderr)
    for k, v in meta.items():
        print(f"  {k}: {v}", file=sys.stderr)


if __name__ == "__main__":
    main()
