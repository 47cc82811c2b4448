#!/usr/bin/python3
"""Test helper: the inverse of models/fold_input.py, so that a model that
ships folded (uint8 NHWC input) can give the fold tests a real float model
to fold again. Writes <out>.onnx and <out>.json beside each other.

    unfold_input.py models/crowdline-v2.json /tmp/dir/m
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FOLD_KEY = "crowdline.folded_input"


def main(manifest_path, out):
    manifest = json.load(open(manifest_path))
    model = onnx.load(os.path.join(os.path.dirname(os.path.abspath(manifest_path)), manifest["onnx"]))
    graph = model.graph
    name = manifest["input"]["name"]
    meta = next(json.loads(p.value) for p in model.metadata_props if p.key == FOLD_KEY)
    prologue = [n for n in graph.node if n.name.startswith("fold_input/")]
    normalized = prologue[-1].output[0]
    had_mul = any(n.op_type == "Mul" for n in prologue)
    inits = {t.name: t for t in graph.initializer}
    for n in prologue:
        graph.node.remove(n)
        for value in n.input:
            if value in inits and value.startswith(f"{name}_fold_"):
                graph.initializer.remove(inits[value])
    consumers = [n for n in graph.node if normalized in n.input]
    for n in consumers:
        for k, value in enumerate(n.input):
            if value == normalized:
                n.input[k] = name
    if not had_mul:  # 1/std was folded into the one Conv's weights: take it out again
        c = len(meta["mean"])
        inv_std = np.float64(meta["pixelScale"]) / np.asarray(meta["std"], np.float64)
        weight = inits[consumers[0].input[1]]
        w = numpy_helper.to_array(weight).astype(np.float64) / inv_std.reshape(1, c, 1, 1)
        graph.initializer.remove(weight)
        graph.initializer.append(numpy_helper.from_array(w.astype(np.float32), weight.name))
    old = next(i for i in graph.input if i.name == name)
    n_, h, w_, c = [d.dim_param or d.dim_value for d in old.type.tensor_type.shape.dim]
    graph.input.remove(old)
    graph.input.insert(0, helper.make_tensor_value_info(name, TensorProto.FLOAT, [n_, c, h, w_]))
    keep = [p for p in model.metadata_props if p.key != FOLD_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    onnx.checker.check_model(model)
    onnx.save(model, out + ".onnx")
    manifest["onnx"] = os.path.basename(out) + ".onnx"
    manifest["input"]["layout"] = "NCHW"
    manifest["input"]["elementType"] = "float32"
    json.dump(manifest, open(out + ".json", "w"), indent=2)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
