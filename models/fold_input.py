#!/usr/bin/python3
"""Fold a crowdline model's input normalisation into its graph.

Rewrites an exported model (its .onnx and manifest, in place) so that the
graph takes raw pixels -- uint8, NHWC, the bytes a JPEG decoder writes --
and does itself what the server's float path did per frame:

    x[n, c, y, x] = (pixel[n, y, x, c] * pixelScale - mean[c]) / std[c]

as Transpose(uint8) -> Cast(float) -> Sub(mean) in front of the original
first node, with 1/std folded into that node's weights when it is a Conv
(exact: the Conv's zero padding still lands where the normalised input is
0), else as a Mul after the Sub. The manifest then says "layout": "NHWC", "elementType": "uint8"
(docs/model-manifest.md) and keeps pixelScale/mean/std as the record of
what was folded in; the server then feeds the decoder's bytes (the uint8
fast path, src/workers/preprocess.ts). Models that are not folded keep
working through the float path.

The reference file beside the manifest (NAME.reference.json, from export.py)
is told the same: its inputs are described as uint8 NHWC pixels; its sums
stay, since folding does not change what the graph computes.

Idempotent: a model whose manifest already says uint8 is checked and its
.onnx left alone (an older reference file still gets the new description).
Uses python3-onnx only (Debian package), no PyTorch.

    /usr/bin/python3 models/fold_input.py models/crowdline-v1.json
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FOLD_KEY = "crowdline.folded_input"


def fail(msg):
    sys.exit(f"fold_input: {msg}")


def dims_of(value_info):
    return [d.dim_param if d.dim_param else d.dim_value for d in value_info.type.tensor_type.shape.dim]


def check_folded(model, name, channels):
    inp = next((i for i in model.graph.input if i.name == name), None)
    if inp is None:
        fail(f'graph has no input "{name}"')
    if inp.type.tensor_type.elem_type != TensorProto.UINT8:
        fail(f'manifest says uint8 but graph input "{name}" is {TensorProto.DataType.Name(inp.type.tensor_type.elem_type)}')
    d = dims_of(inp)
    if len(d) != 4 or d[3] != channels:
        fail(f'manifest says NHWC with {channels} channels but graph input "{name}" has dims {d}')


def fold(model, name, pixel_scale, mean, std):
    graph = model.graph
    inp = next((i for i in graph.input if i.name == name), None)
    if inp is None:
        fail(f'graph has no input "{name}"')
    if inp.type.tensor_type.elem_type != TensorProto.FLOAT:
        fail(f'graph input "{name}" is {TensorProto.DataType.Name(inp.type.tensor_type.elem_type)}, expected FLOAT')
    n, c, h, w = dims_of(inp)
    if c != len(mean):
        fail(f'graph input "{name}" has {c} channels, manifest mean has {len(mean)}')

    normalized = f"{name}_normalized"
    consumers = [node for node in graph.node if name in node.input]
    for node in consumers:
        for k, value in enumerate(node.input):
            if value == name:
                node.input[k] = normalized

    mean_px = np.float64(1.0) / np.float64(pixel_scale) * np.asarray(mean, np.float64)  # mean in pixel units (255 x mean for pixelScale 1/255)
    inv_std = np.float64(pixel_scale) / np.asarray(std, np.float64)  # 1 / std in pixel units
    conv = consumers[0] if len(consumers) == 1 and consumers[0].op_type == "Conv" else None
    weight = next((t for t in graph.initializer if conv is not None and t.name == conv.input[1]), None)
    if weight is not None and sum(value == weight.name for node in graph.node for value in node.input) != 1:
        weight = None  # shared with another node: scaling it would change that node too
    # Transpose the bytes, not the floats: a quarter of the memory traffic.
    prologue = [
        helper.make_node("Transpose", [name], [f"{name}_nchw_u8"], perm=[0, 3, 1, 2], name="fold_input/Transpose"),
        helper.make_node("Cast", [f"{name}_nchw_u8"], [f"{name}_nchw"], to=TensorProto.FLOAT, name="fold_input/Cast"),
    ]
    sub = numpy_helper.from_array(mean_px.astype(np.float32).reshape(1, c, 1, 1), f"{name}_fold_mean")
    if weight is not None and numpy_helper.to_array(weight).ndim == 4 and numpy_helper.to_array(weight).shape[1] == c:
        # The input feeds one Conv only: 1/std goes into its weights (per input
        # channel), leaving one Sub. Exact, zero padding included: the Conv
        # still pads (pixel - mean), which is 0 where the normalised input is.
        folded = numpy_helper.to_array(weight).astype(np.float64) * inv_std.reshape(1, c, 1, 1)
        graph.initializer.remove(weight)
        graph.initializer.append(numpy_helper.from_array(folded.astype(np.float32), weight.name))
        graph.initializer.append(sub)
        prologue.append(helper.make_node("Sub", [f"{name}_nchw", sub.name], [normalized], name="fold_input/Sub"))
        how = f"mean as a Sub, 1/std in the weights of {conv.name or conv.output[0]}"
    else:
        scale = numpy_helper.from_array(inv_std.astype(np.float32).reshape(1, c, 1, 1), f"{name}_fold_scale")
        graph.initializer.extend([sub, scale])
        prologue += [
            helper.make_node("Sub", [f"{name}_nchw", sub.name], [f"{name}_centred"], name="fold_input/Sub"),
            helper.make_node("Mul", [f"{name}_centred", scale.name], [normalized], name="fold_input/Mul"),
        ]
        how = "as Sub and Mul"
    nodes = prologue + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)

    new_input = helper.make_tensor_value_info(name, TensorProto.UINT8, [n, h, w, c])
    graph.input.remove(inp)
    graph.input.insert(0, new_input)
    model.metadata_props.append(onnx.StringStringEntryProto(
        key=FOLD_KEY, value=json.dumps({"pixelScale": pixel_scale, "mean": mean, "std": std})))
    onnx.checker.check_model(model)
    return how


def folded_reference_text(input_name, output_name, comparison):
    """How to build a reference input for a folded model (raw uint8 NHWC pixels)."""
    return ("For each entry: a uint8 NHWC tensor of shape [1,height,width,3] (this model's input is folded: "
            "raw pixels). For channel c (0=R,1=G,2=B), row y, column x, the value is the integer p(x,y,c) "
            "given by `formula` (integer arithmetic, % is the non-negative remainder, floor is integer "
            "division, |v| is the absolute value). Feed it as '" + input_name + "' and compare sum('" +
            output_name + "') with densitySum (" + comparison + "; count = densitySum * countScale).")


def update_reference(manifest_path, manifest):
    """The reference file beside the manifest describes the folded input, not the float one export.py
    wrote (its sums stay: folding does not change what the graph computes)."""
    path = os.path.join(os.path.dirname(os.path.abspath(manifest_path)), manifest["name"] + ".reference.json")
    if not os.path.exists(path):
        return False
    with open(path) as f:
        ref = json.load(f)
    before = json.dumps(ref)
    comparison = ("relative difference < relativeTolerance" if "relativeTolerance" in ref
                  else "expect relative difference < 1e-4")
    ref["howToBuildInputs"] = folded_reference_text(manifest["input"]["name"], manifest["output"]["name"], comparison)
    for c in ref.get("inputs", []) + ref.get("extraInputs", []):
        c["inputShape"] = [1, c["height"], c["width"], 3]
    if json.dumps(ref) == before:
        return False
    write_atomic(path, (json.dumps(ref, indent=2) + "\n").encode())
    return True


def write_atomic(path, data):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest", help="the model's manifest (.json beside the .onnx)")
    args = ap.parse_args()

    with open(args.manifest) as f:
        manifest = json.load(f)
    onnx_path = os.path.join(os.path.dirname(os.path.abspath(args.manifest)), manifest["onnx"])
    inp = manifest["input"]
    channels = 1 if inp["channelOrder"] == "GRAY" else 3
    model = onnx.load(onnx_path)

    if inp.get("elementType", "float32") == "uint8":
        check_folded(model, inp["name"], channels)
        if update_reference(args.manifest, manifest):
            print(f"{args.manifest}: already folded (uint8 NHWC input); its reference file now says so")
        else:
            print(f"{args.manifest}: already folded (uint8 NHWC input); nothing to do")
        return
    if inp.get("layout") != "NCHW":
        fail(f'{args.manifest}: expected a float32 NCHW input, manifest says layout {inp.get("layout")}')
    if any(p.key == FOLD_KEY for p in model.metadata_props):
        fail(f"{onnx_path} is already folded but {args.manifest} says float32: restore the pair from the export")

    how = fold(model, inp["name"], inp["pixelScale"], inp["mean"], inp["std"])

    # Rebuild the input object so the new fields sit beside the layout.
    new_input = {}
    for key, value in inp.items():
        if key == "elementType":
            continue  # a manifest that said float32 explicitly: set below, beside the layout
        new_input[key] = value
        if key == "layout":
            new_input["layout"] = "NHWC"
            new_input["elementType"] = "uint8"
    manifest["input"] = new_input
    write_atomic(onnx_path, model.SerializeToString())
    write_atomic(args.manifest, (json.dumps(manifest, indent=2) + "\n").encode())
    update_reference(args.manifest, manifest)
    print(f"{onnx_path}: input \"{inp['name']}\" is now uint8 NHWC, normalisation folded in ({how}); {args.manifest} updated")


if __name__ == "__main__":
    main()
