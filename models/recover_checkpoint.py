#!/usr/bin/python3
"""Rebuild a train.py checkpoint from a shipped model (its .onnx and manifest).

Checkpoints live outside git (models/checkpoints/), so a fresh clone -- or a
new session on a fresh machine -- has the shipped .onnx but nothing to train
on from. This script inverts what export.py and fold_input.py did to the
network's weights and writes a `last.pt` that train.py resumes from:

* input folding: the first conv's weights were scaled by pixelScale / std per
  input channel (fold_input.py); they are divided back, and the graph's
  `Sub(mean)` is checked against the manifest's mean;
* BatchNorm folding: a Conv+BatchNorm pair became one conv with a bias
  (export.fold_bn). The function is restored exactly with the conv's weights
  as exported and a BatchNorm of unit statistics (running mean 0, running
  variance 1 - eps, scale 1, shift = the exported bias). The split between
  conv weight and BatchNorm scale is not recorded in the export, so training
  from here sees a different (equivalent) parametrisation: train with
  `--freeze-bn-stats`, as crowdline-v2's recipe does, so that the statistics
  stay the ones written here;
* the fixed output gain (`--out-gain`, folded into the output conv) is divided
  back out; it is a training setting that the weights do not record, so it is
  an option here (crowdline-v2 was trained with 10, see the card).

ONNX Conv nodes are matched to the network's Conv2d modules in execution
order, each pair checked for shape, stride, dilation and groups. The rebuilt
network is then checked against the model's reference file (export.py's
PyTorch sums for its synthetic and real inputs): relative difference < 1e-4,
or the script fails and writes nothing.

The checkpoint holds the weights, the step the reference file names, and the
network's shape options; no optimiser or random-generator state (train.py
then starts Adam's moments afresh and seeds its crops from --seed and the step).

    /usr/bin/python3 models/recover_checkpoint.py models/crowdline-v2.json --out-gain 10 \\
        --out models/checkpoints/v2-c3/last.pt
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from crowdnet import COUNT_SCALE  # noqa: E402
from export import synthetic_inputs  # noqa: E402
from nets import NETS  # noqa: E402

TOLERANCE = 1e-4


def fail(msg):
    sys.exit(f"recover_checkpoint: {msg}")


def attr(node, name, default):
    a = next((x for x in node.attribute if x.name == name), None)
    return list(a.ints) if a is not None and a.ints else (a.i if a is not None else default)


def onnx_convs(model):
    """[(node, weight, bias)] for every Conv node, in graph (execution) order."""
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    out = []
    for n in model.graph.node:
        if n.op_type != "Conv":
            continue
        w = init.get(n.input[1])
        b = init.get(n.input[2]) if len(n.input) > 2 else None
        if w is None:
            fail(f"conv {n.name}: weight {n.input[1]} is not an initializer")
        out.append((n, w, b))
    return out


def torch_convs(model, size):
    """The network's Conv2d modules in the order its forward pass calls them, each with the
    BatchNorm that follows it in its nn.Sequential (or None)."""
    bn_after = {}
    for m in model.modules():
        if isinstance(m, nn.Sequential):
            kids = list(m.children())
            for a, b in zip(kids, kids[1:]):
                if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                    bn_after[a] = b
    order = []
    hooks = [m.register_forward_pre_hook(lambda mod, _: order.append(mod))
             for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, *size))
    for h in hooks:
        h.remove()
    if len(set(order)) != len(order):
        fail("a Conv2d runs twice in one forward pass: execution order does not name each conv once")
    return [(m, bn_after.get(m)) for m in order]


def check_pair(i, node, w, conv):
    want = tuple(conv.weight.shape)
    if tuple(w.shape) != want:
        fail(f"conv #{i} ({node.name}): ONNX weight {tuple(w.shape)} vs network {want}")
    if attr(node, "group", 1) != conv.groups:
        fail(f"conv #{i} ({node.name}): group {attr(node, 'group', 1)} vs {conv.groups}")
    if list(attr(node, "strides", [1, 1])) != list(conv.stride):
        fail(f"conv #{i} ({node.name}): strides {attr(node, 'strides', [1, 1])} vs {list(conv.stride)}")
    if list(attr(node, "dilations", [1, 1])) != list(conv.dilation):
        fail(f"conv #{i} ({node.name}): dilations {attr(node, 'dilations', [1, 1])} vs {list(conv.dilation)}")


def unfold_input(model, manifest, first_node, w):
    """The first conv's weights before fold_input.py scaled them by pixelScale / std."""
    inp = manifest["input"]
    if inp.get("elementType") != "uint8":
        return w   # not folded: the weights are export.py's
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    subs = [n for n in model.graph.node if n.op_type == "Sub" and n.name == "fold_input/Sub"]
    muls = [n for n in model.graph.node if n.name == "fold_input/Mul"]
    if len(subs) != 1 or muls:
        fail("expected fold_input.py's single Sub with 1/std in the first conv (not a separate Mul)")
    if subs[0].output[0] not in first_node.input:
        fail("fold_input.py's Sub does not feed the first conv")
    mean_px = np.asarray(inp["mean"], np.float64) / inp["pixelScale"]
    got = init[subs[0].input[1]].reshape(-1).astype(np.float64)
    if not np.allclose(got, mean_px, rtol=1e-6):
        fail(f"graph subtracts {got.tolist()}, manifest mean says {mean_px.tolist()}")
    inv_std = inp["pixelScale"] / np.asarray(inp["std"], np.float64)
    return (w.astype(np.float64) / inv_std.reshape(1, -1, 1, 1)).astype(np.float32)


def load_weights(net, model, convs, manifest, out_gain):
    pairs = torch_convs(net, (64, 64))
    if len(pairs) != len(convs):
        fail(f"ONNX has {len(convs)} convs, the network {len(pairs)}: not this network's export")
    with torch.no_grad():
        for i, ((node, w, b), (conv, bn)) in enumerate(zip(convs, pairs)):
            check_pair(i, node, w, conv)
            if i == 0:
                w = unfold_input(model, manifest, node, w)
            b = np.zeros(w.shape[0], np.float32) if b is None else b
            if conv is getattr(net, "out", None):
                w, b = w / out_gain, b / out_gain   # export.fold_bn multiplied the gain in
            conv.weight.copy_(torch.tensor(w))
            if bn is not None:
                if conv.bias is not None:
                    conv.bias.zero_()
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0 - bn.eps)   # sqrt(var + eps) = 1: the BatchNorm is y = x + shift
                bn.weight.fill_(1.0)
                bn.bias.copy_(torch.tensor(b))
            elif conv.bias is not None:
                conv.bias.copy_(torch.tensor(b))
            elif np.any(b != 0):
                fail(f"conv #{i} ({node.name}) has a bias but the network's conv has none and no BatchNorm")


def check_reference(net, ref, mean, std):
    """Compare the rebuilt network's sums with the reference file's (PyTorch at export time)."""
    import data
    main_inputs, extra_inputs = synthetic_inputs(mean, std)
    built = {spec["id"]: (spec, x) for spec, x in main_inputs + extra_inputs}
    worst, checked = 0.0, 0
    with torch.no_grad():
        for e in ref["inputs"] + ref.get("extraInputs", []):
            spec, x = built.get(e["id"], (None, None))
            if spec is None or spec["formula"] != e["formula"]:
                fail(f"reference input {e['id']} is not one export.py builds today")
            worst = max(worst, rel_diff(float(net(torch.from_numpy(x)).double().sum()), e["densitySum"]))
            checked += 1
        for r in ref.get("realImages", []):
            img = data.cv2.imread(r["path"], data.cv2.IMREAD_COLOR)
            if img is None:
                print(f"  (real image {r['path']} not here: skipped)")
                continue
            got = float(net(torch.from_numpy(data.server_preprocess(img, mean=mean, std=std))[None]).double().sum())
            print(f"  {os.path.basename(r['path'])}: {got * COUNT_SCALE:.3f} people (reference {r['count']:.3f})")
            worst = max(worst, rel_diff(got, r["densitySum"]))
            checked += 1
    return worst, checked


def rel_diff(got, want):
    return abs(got - want) / max(abs(want), 1.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest", help="the model's manifest, e.g. models/crowdline-v2.json")
    ap.add_argument("--out", required=True, help="checkpoint to write (train.py resumes from <ckpt-dir>/last.pt)")
    ap.add_argument("--out-gain", type=float, default=1.0,
                    help="train.py --out-gain the model was trained with (crowdline-v2: 10)")
    a = ap.parse_args()
    torch.set_num_threads(2)

    with open(a.manifest) as f:
        manifest = json.load(f)
    name = manifest["name"]
    if name not in NETS:
        fail(f"no network named {name} in nets.py")
    spec = NETS[name]
    folder = os.path.dirname(os.path.abspath(a.manifest))
    model = onnx.load(os.path.join(folder, manifest["onnx"]))
    with open(os.path.join(folder, name + ".reference.json")) as f:
        ref = json.load(f)

    convs = onnx_convs(model)
    args = {}
    if "decoder_width" in spec.arch:
        # The decoder's width is in the weights: the output channels of the conv that runs where
        # the default network's `lat` conv runs. (The output gain is not: it is an option.)
        default = spec.build({})
        at = [m for m, _ in torch_convs(default, (64, 64))].index(default.lat[0])
        args["decoder_width"] = int(convs[at][1].shape[0])
    if "out_gain" in spec.arch:
        args["out_gain"] = a.out_gain
    net = spec.build(args)
    load_weights(net, model, convs, manifest, a.out_gain)
    net.eval()

    worst, checked = check_reference(net, ref, spec.mean, spec.std)
    print(f"checked {checked} reference sums: worst relative difference {worst:.2e} (limit {TOLERANCE:g})")
    if worst >= TOLERANCE:
        fail("the rebuilt network does not compute what the reference file says: nothing written")

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    state = {"model": net.state_dict(), "step": int(ref.get("checkpointStep") or 0), "args": args,
             "history": [], "recoveredFrom": os.path.abspath(os.path.join(folder, manifest["onnx"]))}
    torch.save(state, a.out + ".tmp")
    os.replace(a.out + ".tmp", a.out)
    print(f"wrote {a.out} (step {state['step']}, args {args})")


if __name__ == "__main__":
    main()
