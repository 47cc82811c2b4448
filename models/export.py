#!/usr/bin/python3
"""Export a crowdline checkpoint to ONNX + manifest + reference outputs.

  /usr/bin/python3 models/export.py [--model crowdline-v2] [--ckpt <ckpt-dir>/last.pt]

Writes (NAME = crowdline-v1 by default, or --model)
  models/NAME.onnx                  opset 13, input "image" N x 3 x H x W float32 (RGB,
                                    normalised as the manifest says), output "density"
                                    N x 1 x ceil(H/8) x ceil(W/8); BatchNorm folded
  models/NAME.json                  manifest read by the crowdline server
  models/NAME.reference.json        PyTorch outputs for synthetic inputs that can be
                                    rebuilt bit-exactly elsewhere (ONNX Runtime check)

The `onnx` / `onnxruntime` Python packages are not available here, so the
export is verified by (1) BN-folded model == training-graph model, (2) a
torch.jit.trace of the export graph run at other input sizes (dynamic H/W),
(3) the reference file, which the server tests (test/default-model.test.ts,
test/model-v2.test.ts) compare against ONNX Runtime.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from crowdnet import COUNT_SCALE, STRIDE, n_params  # noqa: E402
from nets import NETS  # noqa: E402

MAX_BYTES = 15e6   # the limit for a shipped .onnx


def fold_bn(model):
    """Return a copy of `model` (eval) with every Conv2d+BatchNorm2d pair folded into one conv
    (and a fixed output gain folded into the output conv)."""
    import copy
    m = copy.deepcopy(model).eval()

    def fold(seq):
        for name, child in list(seq.named_children()):
            if isinstance(child, nn.Sequential):
                kids = list(child.children())
                if len(kids) >= 2 and isinstance(kids[0], nn.Conv2d) and isinstance(kids[1], nn.BatchNorm2d):
                    conv, bn = kids[0], kids[1]
                    w = conv.weight.detach()
                    b = conv.bias.detach() if conv.bias is not None else torch.zeros(w.shape[0])
                    s = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
                    new = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                                    conv.padding, conv.dilation, conv.groups, bias=True)
                    new.weight.data = w * s[:, None, None, None]
                    new.bias.data = (b - bn.running_mean) * s + bn.bias.detach()
                    setattr(child, "0", new)
                    setattr(child, "1", nn.Identity())
                fold(child)
    fold(m)
    gain = getattr(m, "out_gain", 1.0)   # v2's fixed output multiplier goes into the output conv
    if gain != 1.0:
        m.out.weight.data *= gain
        m.out.bias.data *= gain
        m.out_gain = 1.0
    return m


def fold_pads_into_convs(onnx_path, pads=(0, 0, 1, 1)):
    """Rewrite every Pad -> Conv pair into one Conv with asymmetric `pads`
    ([top, left, bottom, right]; v2's TF-style stride-2 padding is (0, 0, 1, 1)).

    The exporter computes F.pad's amounts with a small dynamic subgraph that ONNX
    Runtime cannot fold, so each Pad would copy a whole activation map (42 MB at
    384x288x96) before its convolution; Conv pads cost nothing. Returns the count.
    """
    import onnx
    m = onnx.load(onnx_path)
    g = m.graph
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    folded = 0
    for pad in [n for n in g.node if n.op_type == "Pad"]:
        (conv,) = consumers[pad.output[0]]
        attrs = {x.name: x for x in conv.attribute}
        assert conv.op_type == "Conv" and list(attrs["pads"].ints) == [0, 0, 0, 0], conv.name
        attrs["pads"].ints[:] = list(pads)
        conv.input[0] = pad.input[0]
        g.node.remove(pad)
        folded += 1
    # Drop what only fed the removed Pads (their dynamic pad-amount subgraphs).
    while True:
        used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
        dead = [n for n in g.node if not any(o in used for o in n.output)]
        if not dead:
            break
        for n in dead:
            g.node.remove(n)
    onnx.checker.check_model(m)
    onnx.save(m, onnx_path)
    return folded


FORMULAS = {
    # The first three are the "inputs" the server test suite rebuilds (ids and formula strings are
    # matched exactly there: keep them).  "dots*" (dark blobs on a lighter textured ground, which
    # older weights read as heads) and "people*" (below) are "extraInputs".
    "grad64x48": ("p(x,y,c) = (x*7 + y*13 + c*29) % 256",
                  lambda x, y, c: (x * 7 + y * 13 + c * 29) % 256),
    "mix200x152": ("p(x,y,c) = (x*3 + y*5 + c*71 + (x*y) % 17) % 256",
                   lambda x, y, c: (x * 3 + y * 5 + c * 71 + (x * y) % 17) % 256),
    "blocks768x576": ("p(x,y,c) = ((floor(x/24) * 37 + floor(y/24) * 91 + c * 53) % 256 + (x % 5) * 9) % 256",
                      lambda x, y, c: ((x // 24 * 37 + y // 24 * 91 + c * 53) % 256 + (x % 5) * 9) % 256),
}
SIZES = {"grad64x48": (64, 48), "mix200x152": (200, 152), "blocks768x576": (768, 576)}
DOTS = ("p(x,y,c) = 30 if ((x % 12) - 6)^2 + ((y % 16) - 5)^2 < 12 else (150 + 20*c + (x*y) % 50) % 256",
        lambda x, y, c: np.where((x % 12 - 6) ** 2 + (y % 16 - 5) ** 2 < 12, 30, (150 + 20 * c + (x * y) % 50) % 256))
# Dark round heads over lighter bodies on a grid. A well-trained model reads the dots above as
# nobody (crowdline-v2 since 2026-11-26 18:50 UTC: all six patterns sum to 0), and a reference
# check needs at least one input whose density is clearly not zero: this one (v2: sum 888, 8.9 people).
PEOPLE = ("p(x,y,c) = 40 if ((x % 24) - 12)^2 + ((y % 48) - 10)^2 < 36 else "
          "(90 + 30*c if |(x % 24) - 12| < 8 and 18 <= y % 48 < 44 else (170 + 10*c + (x*y) % 40) % 256)",
          lambda x, y, c: np.where(
              ((x % 24) - 12) ** 2 + ((y % 48) - 10) ** 2 < 36, 40,
              np.where((np.abs((x % 24) - 12) < 8) & (y % 48 >= 18) & (y % 48 < 44), 90 + 30 * c,
                       (170 + 10 * c + (x * y) % 40) % 256)))
PEOPLE_INPUT = {"id": "people384x288", "width": 384, "height": 288, "formula": PEOPLE[0]}


def _build(spec, fn, mean, std):
    w, h = spec["width"], spec["height"]
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    chans = []
    for c in range(3):
        p = fn(x, y, c) + 0 * x
        v = (p.astype(np.float32) * np.float32(1.0 / 255.0) - np.float32(mean[c])) / np.float32(std[c])
        chans.append(v.astype(np.float32))
    return np.stack(chans)[None]


def synthetic_inputs(mean, std):
    """Deterministic inputs.  Integer pixel values p (0..255) are built by formula in RGB
    channel order, then normalised exactly as the manifest says:
    x = (p * pixelScale - mean[c]) / std[c]  (float32)."""
    main = []
    for ident, (formula, fn) in FORMULAS.items():
        w, h = SIZES[ident]
        spec = {"id": ident, "width": w, "height": h, "formula": formula}
        main.append((spec, _build(spec, fn, mean, std)))
    extra = []
    for (w, h) in [(64, 48), (200, 152), (768, 576)]:
        spec = {"id": f"dots{w}x{h}", "width": w, "height": h, "formula": DOTS[0]}
        extra.append((spec, _build(spec, DOTS[1], mean, std)))
    extra.append((dict(PEOPLE_INPUT), _build(PEOPLE_INPUT, PEOPLE[1], mean, std)))
    return main, extra


def manifest(net):
    return {
        "schema": "crowdline.model-manifest/1",
        "name": net.name,
        "description": net.description,
        "onnx": net.name + ".onnx",
        "input": {
            "name": "image",
            "layout": "NCHW",
            "channelOrder": "RGB",
            "pixelScale": 1.0 / 255.0,
            "mean": list(net.mean),
            "std": list(net.std),
            "preferredSize": {"width": 768, "height": 576},
            "sizeMultiple": net.size_multiple,
        },
        "output": {"name": "density", "stride": STRIDE, "countScale": COUNT_SCALE},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(NETS), default="crowdline-v1")
    ap.add_argument("--ckpt", help="default: <the net's checkpoint folder>/last.pt")
    ap.add_argument("--out-dir", default=HERE)
    ap.add_argument("--opset", type=int, default=13)
    a = ap.parse_args()
    torch.set_num_threads(2)
    net = NETS[a.model]
    name = net.name
    a.ckpt = a.ckpt or os.path.join(net.ckpt_dir, "last.pt")

    ck = torch.load(a.ckpt, map_location="cpu", weights_only=False)   # our own checkpoint (NumPy RNG state, args)
    model = net.build(ck.get("args"))
    model.load_state_dict(ck["model"])
    model.eval()
    folded = fold_bn(model)
    step = ck.get("step")
    print(f"checkpoint {a.ckpt} step {step}, params {n_params(model)} (folded {n_params(folded)})")

    # (1) folded == original
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for (h, w) in [(576, 768), (152, 200), (480, 640)]:
            x = torch.randn(2, 3, h, w, generator=g)
            y0, y1 = model(x), folded(x)
            rel = float((y0 - y1).abs().max() / (y0.abs().max() + 1e-6))
            assert y1.shape == (2, 1, -(-h // STRIDE), -(-w // STRIDE)), y1.shape
            assert rel < 1e-4, f"BN folding mismatch {rel}"
    print("BN folding check ok")

    onnx_path = os.path.join(a.out_dir, name + ".onnx")
    dummy = torch.zeros(1, 3, 576, 768)
    torch.onnx.export(
        folded, dummy, onnx_path, opset_version=a.opset, do_constant_folding=True,
        input_names=["image"], output_names=["density"],
        dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"},
                      "density": {0: "batch", 2: "out_height", 3: "out_width"}},
    )
    print(f"folded {fold_pads_into_convs(onnx_path)} Pad nodes into Conv pads")
    size = os.path.getsize(onnx_path)
    print(f"wrote {onnx_path} ({size} bytes, {size / 1e6:.2f} MB)")
    assert size <= MAX_BYTES, f"{size} bytes > {MAX_BYTES}"

    # (2) traced graph generalises to other sizes / batch (dynamic shapes recorded)
    traced = torch.jit.trace(folded, dummy)
    with torch.no_grad():
        for (n, h, w) in [(3, 240, 320), (1, 1024 // 2, 360), (2, 56, 72)]:
            x = torch.randn(n, 3, h, w, generator=g)
            d = float((traced(x) - folded(x)).abs().max())
            assert d < 1e-4, (n, h, w, d)
    print("jit trace round trip at other sizes ok")

    # (3) reference outputs for the ONNX Runtime comparison
    refs, extra = [], []
    main_inputs, extra_inputs = synthetic_inputs(net.mean, net.std)
    with torch.no_grad():
        for spec, arr in main_inputs + extra_inputs:
            y = folded(torch.from_numpy(arr)).numpy()
            (refs if len(refs) < len(main_inputs) else extra).append({**spec,
                         "inputShape": list(arr.shape),
                         "outputShape": list(y.shape),
                         "densitySum": float(y.astype(np.float64).sum()),
                         "count": float(y.astype(np.float64).sum()) * COUNT_SCALE,
                         "densityMax": float(y.max()),
                         "firstRow": [float(v) for v in y[0, 0, 0, :8]]})
    real = []
    import data
    with torch.no_grad():
        for rel in ["shanghaitech-b/test/images/IMG_1.jpg", "beijing-brt/train/images/2-20170507162343.jpg"]:
            img = data.cv2.imread(os.path.join(data.DATA_ROOT, rel), data.cv2.IMREAD_COLOR)
            y = folded(torch.from_numpy(data.server_preprocess(img, mean=net.mean, std=net.std))[None]).numpy()
            real.append({"path": "/work/shared/datasets/" + rel, "sourceSize": [img.shape[1], img.shape[0]],
                         "outputShape": list(y.shape), "densitySum": float(y.astype(np.float64).sum()),
                         "count": float(y.astype(np.float64).sum()) * COUNT_SCALE})
    ref = {
        "model": name + ".onnx",
        "checkpointStep": step,
        "howToBuildInputs": (
            "For each entry: an NCHW float32 tensor of shape [1,3,height,width]. For channel c "
            "(0=R,1=G,2=B), row y, column x, compute the integer pixel p(x,y,c) by `formula` "
            "(integer arithmetic, % is the non-negative remainder, floor is integer division, |v| is the absolute value), then "
            "x = (p * (1/255) - mean[c]) / std[c] in float32 with mean/std from " + name + ".json. "
            "Feed it as 'image' and compare sum('density') with densitySum (expect relative "
            "difference < 1e-4; count = densitySum * countScale)."),
        "producedBy": "PyTorch " + torch.__version__ + " (BN-folded model, CPU)",
        "inputs": refs,
        "extraInputs": extra,
        "realImagesNote": (
            "End-to-end check of the server preprocessing: decode the JPEG (cv2/libjpeg here), "
            "resize to 768x576 with bilinear half-pixel no-antialias (cv2.INTER_LINEAR), RGB, "
            "normalise as the manifest says. JPEG decoders and resize rounding differ slightly, so "
            "expect agreement within ~1-2% of the count, not bit-exactness."),
        "realImages": real,
    }
    with open(os.path.join(a.out_dir, name + ".reference.json"), "w") as f:
        json.dump(ref, f, indent=2)
        f.write("\n")
    with open(os.path.join(a.out_dir, name + ".json"), "w") as f:
        json.dump(manifest(net), f, indent=2)
        f.write("\n")
    for r in refs + extra:
        print(f"  {r['id']}: out {r['outputShape']} sum {r['densitySum']:.4f} count {r['count']:.3f}")
    print(f"wrote {name}.json and {name}.reference.json")


if __name__ == "__main__":
    main()
