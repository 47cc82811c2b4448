#!/usr/bin/python3
"""Quantize a folded crowdline model to 8 bits for ONNX Runtime's integer kernels.

Writes an 8-bit copy of a model exported by export.py and folded by
fold_input.py, as a model of its own beside it (NAME-int8.onnx, .json,
.reference.json: same input, same output, same manifest fields), in the QDQ
form ONNX Runtime fuses into QLinearConv and QLinearAdd on the CPU:

* every Conv weight but the map's (below) becomes int8, symmetric, one
  scale per output channel, behind a DequantizeLinear; its bias becomes
  int32 at input scale x weight scale (what the integer kernel adds to its
  accumulator);
* every activation that feeds a Conv, Add or Resize gets a
  QuantizeLinear -> DequantizeLinear pair (uint8, asymmetric), placed after
  the Relu/Clip that follow a Conv, so ONNX Runtime folds them into the
  quantization range. The ranges are measured on calibration frames: training
  images only (ShanghaiTech B train and the BRT frames the model trained on),
  never the test split or the BRT hold-out.
* the graph output (the density map) stays float, and so does the map's own
  convolution (the last one, 1x1, 32 channels -> 1), weights and input: its input
  is a ReLU output from 0 to ~870 of which it sums small differences, and
  8 bits of it moved the count of the weights shipped since 2026-11-26 by
  +9 to +18 % (measured one thing at a time; the model card has it). It is
  0.01 % of the graph's multiply-adds.

ONNX Runtime's own quantize_static does the same, but its Python package is not
available on these machines, so this is the small subset crowdline's graphs
need (Conv, Relu, Clip, Add, Resize), checked here:
  - the float graph run by this script's interpreter must reproduce the
    reference sums PyTorch wrote at export (so the interpreter is right);
  - the int8 graph's counts on the calibration frames must stay within
    --max-count-change of the float graph's.
The new reference file records the int8 graph's sums (computed by the same
interpreter with Quantize/Dequantize as the ONNX operators define them), which
the server tests compare with ONNX Runtime's integer kernels, plus one more
synthetic input (people-like figures) because the int8 graph reads the float
model's dot patterns as empty.

Uses python3-onnx, PyTorch (as a tensor library), OpenCV and numpy; no ONNX
Runtime.

    /usr/bin/python3 models/quantize.py models/crowdline-v2.json     # writes models/crowdline-v2-int8.*
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402  (dataset paths and the BRT hold-out split)
import export  # noqa: E402  (the synthetic reference inputs' formulas)
from fold_input import FOLD_KEY, folded_reference_text, write_atomic  # noqa: E402

QUANT_KEY = "crowdline.quantized"
ACTIVATION_CHAIN = ("Relu", "Clip")
QUANTIZED_CONSUMERS = ("Conv", "Add", "Resize")
# Weights use 7 of int8's 8 bits (ORT's reduce_range). ONNX Runtime's x86 u8s8 kernels add
# pairs of uint8 x int8 products in 16 bits; full-range weights overflow there (measured: the
# fused graph drifted from the unfused one at the first Conv and read every test image as empty).
WEIGHT_MAX = 63


def fail(msg):
    sys.exit(f"quantize: {msg}")


# ---------------------------------------------------------------- interpreter

def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def run_graph(model, feeds, watch=()):
    """Evaluate the graph with PyTorch ops (float32, CPU). Returns the outputs and
    the watched tensors. Covers the operators crowdline's exports use."""
    env = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    env.update({k: torch.from_numpy(v) for k, v in feeds.items()})
    seen = {}
    for node in model.graph.node:
        a = attrs(node)
        x = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Constant":
            y = torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
        elif op == "Transpose":
            y = x[0].permute(*a["perm"])
        elif op == "Cast":
            y = x[0].to({TensorProto.FLOAT: torch.float32, TensorProto.INT64: torch.int64}[a["to"]])
        elif op in ("Sub", "Add", "Mul"):
            y = {"Sub": torch.sub, "Add": torch.add, "Mul": torch.mul}[op](x[0], x[1])
        elif op == "Relu":
            y = torch.relu(x[0])
        elif op == "Clip":
            y = torch.clamp(x[0], float(x[1]), float(x[2]))
        elif op == "Conv":
            t, l, b, r = a.get("pads", [0, 0, 0, 0])
            inp = F.pad(x[0], (l, r, t, b))
            y = F.conv2d(inp, x[1], x[2] if len(x) > 2 else None, stride=a.get("strides", [1, 1]),
                         dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
        elif op == "Shape":
            y = torch.tensor(list(x[0].shape), dtype=torch.int64)
        elif op == "Gather":
            y = torch.index_select(x[0], a.get("axis", 0), x[1].reshape(-1)).reshape(x[1].shape)
        elif op == "Unsqueeze":
            y = x[0]
            for ax in sorted(int(v) for v in x[1]):
                y = y.unsqueeze(ax)
        elif op == "Concat":
            y = torch.cat(x, a["axis"])
        elif op == "Slice":
            starts, ends, axes = x[1].tolist(), x[2].tolist(), x[3].tolist()
            steps = x[4].tolist() if len(x) > 4 else [1] * len(starts)
            idx = [slice(None)] * x[0].dim()
            for s, e, ax, st in zip(starts, ends, axes, steps):
                idx[ax] = slice(s, e, st)
            y = x[0][tuple(idx)]
        elif op == "Resize":
            size = [int(v) for v in x[3][2:]]
            mode = a["mode"].decode()
            ctm = a.get("coordinate_transformation_mode", b"half_pixel").decode()
            if mode != "linear" or ctm != "half_pixel":
                fail(f"Resize mode {mode}/{ctm} is not supported")
            y = F.interpolate(x[0], size=size, mode="bilinear", align_corners=False)
        elif op == "QuantizeLinear":
            s, z = x[1], x[2]
            lo, hi = (0, 255) if z.dtype == torch.uint8 else (-128, 127)
            shape = [-1 if d == a.get("axis", 1) else 1 for d in range(x[0].dim())] if s.dim() else []
            q = torch.round(x[0] / s.reshape(shape)) + z.to(torch.float32).reshape(shape)
            y = torch.clamp(q, lo, hi).to(z.dtype)
        elif op == "DequantizeLinear":
            s, z = x[1], x[2]
            shape = [-1 if d == a.get("axis", 1) else 1 for d in range(x[0].dim())] if s.dim() else []
            y = (x[0].to(torch.float32) - z.to(torch.float32).reshape(shape)) * s.reshape(shape)
        else:
            fail(f"operator {op} is not supported by the calibration interpreter")
        env[node.output[0]] = y
        if node.output[0] in watch:
            seen[node.output[0]] = y
    return {o.name: env[o.name].numpy() for o in model.graph.output}, seen


# ---------------------------------------------------------------- where to quantize

def consumers_of(graph):
    c = {}
    for n in graph.node:
        for i in n.input:
            c.setdefault(i, []).append(n)
    return c


def map_convs(graph):
    """Names of the Conv nodes whose Relu/Clip chain ends at a graph output: the map's own convolution."""
    cons = consumers_of(graph)
    outputs = {o.name for o in graph.output}
    found = set()
    for n in graph.node:
        if n.op_type != "Conv":
            continue
        t = n.output[0]
        while True:
            c = cons.get(t, [])
            if len(c) == 1 and c[0].op_type in ACTIVATION_CHAIN:
                t = c[0].output[0]
            else:
                break
        if t in outputs:
            found.add(n.name)
    return found


def activation_points(graph):
    """{tensor: kind}: the float tensors that get a Quantize/Dequantize pair: every
    activation a Conv, Add or Resize reads, and the end of each Conv's or Add's
    Relu/Clip chain. kind 'range' (measured on the calibration frames) or 'like:<t>'
    (the parameters of tensor t: a Resize only moves values around)."""
    cons = consumers_of(graph)
    outputs = {o.name for o in graph.output}

    def chain_end(t):
        while True:
            c = cons.get(t, [])
            if len(c) == 1 and c[0].op_type in ACTIVATION_CHAIN:
                t = c[0].output[0]
            else:
                return t

    constants = {init.name for init in graph.initializer}
    keep_float = map_convs(graph)
    points = {}
    for n in graph.node:
        if n.name in keep_float:
            continue  # the map's convolution stays float, weights and input
        for i in n.input[:1] if n.op_type in ("Conv", "Resize") else (n.input if n.op_type == "Add" else []):
            if i and i not in constants:
                points.setdefault(i, "range")
        if n.op_type in ("Conv", "Add"):
            end = chain_end(n.output[0])
            if end not in outputs and any(c.op_type in QUANTIZED_CONSUMERS and c.name not in keep_float for c in cons.get(end, [])):
                points[end] = "range"
        if n.op_type == "Resize":
            points[n.output[0]] = f"like:{n.input[0]}"
    return points


def uint8_params(lo, hi):
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zero = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zero)


# ---------------------------------------------------------------- rewrite

def quantize(model, ranges):
    g = model.graph
    init = {i.name: i for i in g.initializer}
    cons = consumers_of(g)
    params = {}
    for t, r in ranges.items():
        if isinstance(r, tuple):
            params[t] = uint8_params(*r)
    for t, r in ranges.items():
        if isinstance(r, str):
            params[t] = params[r[5:]]

    added, new_init = [], []
    for t, (s, z) in params.items():
        new_init += [numpy_helper.from_array(np.array(s, np.float32), f"{t}_scale"),
                     numpy_helper.from_array(np.array(z, np.uint8), f"{t}_zero")]
        added += [helper.make_node("QuantizeLinear", [t, f"{t}_scale", f"{t}_zero"], [f"{t}_q"], name=f"{t}_Q"),
                  helper.make_node("DequantizeLinear", [f"{t}_q", f"{t}_scale", f"{t}_zero"], [f"{t}_dq"], name=f"{t}_DQ")]
        for c in cons.get(t, []):
            for k, i in enumerate(c.input):
                if i == t:
                    c.input[k] = f"{t}_dq"

    keep_float = map_convs(g)
    for n in list(g.node):
        if n.op_type != "Conv" or n.name in keep_float:
            continue
        w_name = n.input[1]
        w = numpy_helper.to_array(init[w_name]).astype(np.float32)
        w_scale = np.abs(w).reshape(w.shape[0], -1).max(1) / WEIGHT_MAX
        w_scale[w_scale == 0] = 1.0  # an all-zero filter: any scale represents it
        w_q = np.clip(np.round(w / w_scale[:, None, None, None]), -WEIGHT_MAX, WEIGHT_MAX).astype(np.int8)
        new_init += [numpy_helper.from_array(w_q, f"{w_name}_quantized"),
                     numpy_helper.from_array(w_scale.astype(np.float32), f"{w_name}_scale"),
                     numpy_helper.from_array(np.zeros(len(w_scale), np.int8), f"{w_name}_zero")]
        added.append(helper.make_node("DequantizeLinear", [f"{w_name}_quantized", f"{w_name}_scale", f"{w_name}_zero"],
                                      [f"{w_name}_dq"], name=f"{w_name}_DQ", axis=0))
        n.input[1] = f"{w_name}_dq"
        x = n.input[0]
        if len(n.input) > 2 and x.endswith("_dq") and x[:-3] in params:
            b_name = n.input[2]
            b = numpy_helper.to_array(init[b_name]).astype(np.float64)
            b_scale = (np.float64(params[x[:-3]][0]) * w_scale).astype(np.float32)
            b_q = np.round(b / b_scale)
            if np.abs(b_q).max() >= 2 ** 31:
                fail(f"{b_name} does not fit int32 at scale input x weight")
            new_init += [numpy_helper.from_array(b_q.astype(np.int32), f"{b_name}_quantized"),
                         numpy_helper.from_array(b_scale, f"{b_name}_scale"),
                         numpy_helper.from_array(np.zeros(len(b_scale), np.int32), f"{b_name}_zero")]
            added.append(helper.make_node("DequantizeLinear", [f"{b_name}_quantized", f"{b_name}_scale", f"{b_name}_zero"],
                                          [f"{b_name}_dq"], name=f"{b_name}_DQ", axis=0))
            n.input[2] = f"{b_name}_dq"

    g.initializer.extend(new_init)
    nodes = topological(list(g.node) + added, {i.name for i in g.input} | {i.name for i in g.initializer})
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    model.metadata_props.append(onnx.StringStringEntryProto(key=QUANT_KEY, value=json.dumps({
        "weights": "int8 symmetric per output channel", "activations": "uint8 asymmetric per tensor",
        "tensors": len(params)})))
    onnx.checker.check_model(model)
    return len(params)


def topological(nodes, available):
    out, pending = [], nodes
    while pending:
        rest = []
        for n in pending:
            if all(i == "" or i in available for i in n.input):
                out.append(n)
                available.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            fail("the rewritten graph has a cycle")
        pending = rest
    return out


# ---------------------------------------------------------------- calibration data

def calibration_frames(manifest, count):
    """Training frames only, resized the way the server resizes (bilinear), as
    uint8 NHWC RGB: a spread over ShanghaiTech B train and BRT train minus the hold-out."""
    w, h = manifest["input"]["preferredSize"]["width"], manifest["input"]["preferredSize"]["height"]
    shb, _ = data.load_split(data.SHB, "train")
    (brt, _), _ = data.brt_split()
    n_shb = count * 2 // 3
    picks = [os.path.join(data.SHB, "train", "images", shb[i]) for i in np.linspace(0, len(shb) - 1, n_shb).astype(int)]
    picks += [os.path.join(data.BRT, "train", "images", brt[i])
              for i in np.linspace(0, len(brt) - 1, count - n_shb).astype(int)]
    for p in picks:
        img = cv2.imread(p, cv2.IMREAD_COLOR)
        if img is None:
            fail(f"cannot read calibration frame {p}")
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
        yield p, np.ascontiguousarray(img[:, :, ::-1])[None]


# formula text -> p(x, y, c): export.py's recipes, the people pattern among them.
PIXEL_RECIPES = {text: fn for text, fn in list(export.FORMULAS.values()) + [export.DOTS, export.PEOPLE]}


def reference_pixels(entry):
    """A synthetic reference input, as uint8 NHWC (the folded model's input)."""
    h, w = entry["height"], entry["width"]
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    fn = PIXEL_RECIPES[entry["formula"]]
    return np.stack([fn(x, y, c) + 0 * x for c in range(3)], axis=-1).astype(np.uint8)[None]


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest", help="the folded model's manifest (.json beside the .onnx)")
    ap.add_argument("--name", help="the 8-bit model's name (default: NAME-int8)")
    ap.add_argument("--calibration-frames", type=int, default=48)
    ap.add_argument("--max-count-change", type=float, default=0.03,
                    help="refuse if the int8 graph's total count on the calibration frames moves more than this")
    args = ap.parse_args()
    torch.set_grad_enabled(False)

    with open(args.manifest) as f:
        manifest = json.load(f)
    base = os.path.dirname(os.path.abspath(args.manifest))
    onnx_path = os.path.join(base, manifest["onnx"])
    model = onnx.load(onnx_path)
    if any(p.key == QUANT_KEY for p in model.metadata_props):
        fail(f"{onnx_path} is already quantized")
    if manifest["input"].get("elementType") != "uint8" or not any(p.key == FOLD_KEY for p in model.metadata_props):
        fail(f"{onnx_path} is not folded: run fold_input.py first (the int8 graph starts from uint8 pixels)")
    name = args.name or manifest["name"] + "-int8"
    in_name, out_name = manifest["input"]["name"], manifest["output"]["name"]
    with open(os.path.join(base, manifest["name"] + ".reference.json")) as f:
        ref = json.load(f)
    count_scale = manifest["output"]["countScale"]

    def density_sum(graph, entry_or_pixels):
        px = reference_pixels(entry_or_pixels) if isinstance(entry_or_pixels, dict) else entry_or_pixels
        return float(run_graph(graph, {in_name: px})[0][out_name].astype(np.float64).sum())

    # 1. the interpreter reproduces PyTorch's reference sums on the float graph
    cases = ref["inputs"] + ref.get("extraInputs", [])
    for c in cases:
        got = density_sum(model, c)
        if abs(got - c["densitySum"]) > 1e-3 + 1e-4 * abs(c["densitySum"]):
            fail(f"interpreter disagrees with PyTorch on {c['id']}: {got} vs {c['densitySum']}")
    print(f"interpreter matches PyTorch on {len(cases)} reference inputs")
    float_model = onnx.ModelProto()
    float_model.CopyFrom(model)

    # 2. ranges on calibration frames
    points = activation_points(model.graph)
    watch = {t for t, k in points.items() if k == "range"}
    lo = {t: np.inf for t in watch}
    hi = {t: -np.inf for t in watch}
    frames = list(calibration_frames(manifest, args.calibration_frames))
    float_counts = []
    for _, px in frames:
        out, seen = run_graph(model, {in_name: px}, watch)
        float_counts.append(float(out[out_name].astype(np.float64).sum()))
        # Min/max over all frames, as ONNX Runtime's default calibrator. Percentile ranges
        # (99.99 %, averaged per frame) were tried and clipped dense frames: up to 83 people off.
        for t, v in seen.items():
            lo[t] = min(lo[t], float(v.min()))
            hi[t] = max(hi[t], float(v.max()))
    ranges = {t: ((lo[t], hi[t]) if k == "range" else k) for t, k in points.items()}
    n = quantize(model, ranges)
    print(f"quantized {n} activation tensors, calibrated on {len(frames)} training frames")

    # 3. the int8 graph keeps the counts
    int8_counts = [density_sum(model, px) for _, px in frames]
    f_tot, q_tot = sum(float_counts), sum(int8_counts)
    change = abs(q_tot - f_tot) / max(f_tot, 1e-9)
    per = np.abs(np.array(int8_counts) - np.array(float_counts)) * count_scale
    print(f"calibration frames: total count float {f_tot * count_scale:.1f}, int8 {q_tot * count_scale:.1f} "
          f"({100 * change:.2f} %); per frame |int8 - float| mean {per.mean():.2f}, max {per.max():.2f} people")
    if change > args.max_count_change:
        fail(f"int8 moves the total count by {100 * change:.2f} % (> {100 * args.max_count_change:.1f} %); not written")

    # 4. the int8 model's own manifest and reference file
    # the int8 graph reads the dots as empty; references exported before the people pattern get it here
    ref["extraInputs"] = ref.get("extraInputs", [])
    if not any(c["id"] == export.PEOPLE_INPUT["id"] for c in ref["extraInputs"]):
        ref["extraInputs"].append(dict(export.PEOPLE_INPUT))
    for c in ref["inputs"] + ref["extraInputs"]:
        c["floatDensitySum"] = c["densitySum"] if "densitySum" in c else density_sum(float_model, c)
        y = run_graph(model, {in_name: reference_pixels(c)})[0][out_name]
        c["densitySum"] = float(y.astype(np.float64).sum())
        c["count"] = c["densitySum"] * count_scale
        c["densityMax"] = float(y.max())
        c["firstRow"] = [float(v) for v in y[0, 0, 0, :8]]
        c["inputShape"] = [1, c["height"], c["width"], 3]
        c.setdefault("outputShape", list(y.shape))
    ref["model"] = name + ".onnx"
    # ONNX Runtime requantizes in its own integer arithmetic; a value on a rounding tie can land one
    # step away and move later layers a little. With the map's convolution float nothing requantizes
    # its input any more, so those steps reach the sum: measured 1.0-2.6 % on the inputs with real
    # density (0.2 % before, when it was 8-bit). A broken graph is off by far more (the overflow
    # above: 100 %; float vs int8 on the people input: 34 %).
    ref["relativeTolerance"] = 0.05
    # And on inputs the int8 graph reads as nearly empty, a few density units of rounding are a large
    # part of the sum (measured: dots64x48, 0.28 people, ONNX Runtime 0.03 people lower): 0.05 people.
    ref["absoluteTolerance"] = 0.05 / count_scale
    ref["howToBuildInputs"] = folded_reference_text(
        in_name, out_name, "|difference| <= relativeTolerance x densitySum + absoluteTolerance")
    ref["quantizedFrom"] = manifest["onnx"]
    ref["producedBy"] += ("; densitySum then recomputed for the int8 graph by models/quantize.py "
                          "(QuantizeLinear/DequantizeLinear as ONNX defines them, float32); "
                          "floatDensitySum is the float graph's")
    ref.pop("realImages", None)  # those were the float graph's; crowdline eval measures the int8 one
    ref.pop("realImagesNote", None)
    manifest["name"] = name
    manifest["onnx"] = name + ".onnx"
    manifest["description"] = (manifest.get("description", "") + " 8-bit (int8 weights, uint8 activations, "
                               "QDQ) for ONNX Runtime's CPU integer kernels: models/quantize.py.").strip()
    write_atomic(os.path.join(base, name + ".onnx"), model.SerializeToString())
    write_atomic(os.path.join(base, name + ".json"), (json.dumps(manifest, indent=2) + "\n").encode())
    write_atomic(os.path.join(base, name + ".reference.json"), (json.dumps(ref, indent=2) + "\n").encode())
    print(f"wrote {name}.onnx ({os.path.getsize(os.path.join(base, name + '.onnx'))} bytes), "
          f"{name}.json and {name}.reference.json in {base}")


if __name__ == "__main__":
    main()
