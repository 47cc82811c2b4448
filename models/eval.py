#!/usr/bin/python3
"""Evaluate a crowdline checkpoint in PyTorch (the server-side evaluation is
models/evaluate.ts, through the server's own preprocessing).

  /usr/bin/python3 models/eval.py [--model crowdline-v2] [--ckpt <ckpt-dir>/last.pt] [--out models/work/eval.json]

Every image goes through the server recipe: resize to 768x576 with
cv2.INTER_LINEAR (bilinear, half-pixel centres, no antialias), BGR->RGB,
x = (p/255 - mean)/std (the net's mean/std).  Reports
  * ShanghaiTech B test (316 images) MAE / RMSE (also at native 1024x768 for reference)
  * the sparse held-out BRT frames (last 120 of train by name, never trained on)
    MAE / RMSE: server recipe (portrait 360x640 stretched to 768x576) and native size
  * where the BRT error is: predicted vs annotated people per frame in the top
    fifth, the next 30 % and the bottom half of the frame (--brt-bands)
  * vtest.avi counts at frames 0,100,...,700 vs hand counts
  * speed per 768x576 frame, BN-folded model, torch.set_num_threads(1 and 2)
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from crowdnet import COUNT_SCALE, n_params  # noqa: E402
import data  # noqa: E402
from export import fold_bn  # noqa: E402
from nets import NETS  # noqa: E402

# Hand counts of people visible in vtest.avi (whole bodies or heads, incl. the
# small far figure on the upper lawn), counted by eye on the 768x576 frames.
VTEST_HAND = {0: 3, 100: 7, 200: 7, 300: 6, 400: 3, 500: 4, 600: 6, 700: 8}


@torch.no_grad()
def counts(model, imgs, pre):
    out = []
    for im in imgs:
        x = torch.from_numpy(pre(im))[None]
        out.append(float(model(x).double().sum()) * COUNT_SCALE)
    return np.asarray(out)


@torch.no_grad()
def band_counts(model, imgs, points, pre, bands=(0.0, 0.2, 0.5, 1.0)):
    """Per-frame mean of predicted and annotated people in horizontal bands of the frame."""
    pred = np.zeros(len(bands) - 1)
    true = np.zeros(len(bands) - 1)
    for im, pts in zip(imgs, points):
        d = model(torch.from_numpy(pre(im))[None])[0, 0].double().numpy() * COUNT_SCALE
        y = np.asarray(pts, np.float64).reshape(-1, 2)[:, 1] / im.shape[0]
        for b in range(len(bands) - 1):
            pred[b] += d[int(bands[b] * d.shape[0]):int(bands[b + 1] * d.shape[0])].sum()
            true[b] += np.count_nonzero((y >= bands[b]) & (y < bands[b + 1]))
    return [{"rows": f"{bands[b]:.0%}-{bands[b + 1]:.0%}", "predicted": round(pred[b] / len(imgs), 2),
             "annotated": round(true[b] / len(imgs), 2)} for b in range(len(bands) - 1)]


def stats(pred, gt):
    e = pred - gt
    return {"mae": round(float(np.abs(e).mean()), 3), "rmse": round(float(np.sqrt((e ** 2).mean())), 3),
            "bias": round(float(e.mean()), 3), "n": int(len(gt))}


def speed(model, threads, reps=20):
    torch.set_num_threads(threads)
    x = torch.randn(1, 3, 576, 768)
    with torch.no_grad():
        for _ in range(3):
            model(x)
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            model(x)
            ts.append(time.perf_counter() - t)
    return {"threads": threads, "median_ms": round(1000 * float(np.median(ts)), 1),
            "min_ms": round(1000 * float(np.min(ts)), 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(NETS), default="crowdline-v1")
    ap.add_argument("--ckpt", help="default: <the net's checkpoint folder>/last.pt")
    ap.add_argument("--out", default=os.path.join(HERE, "work", "eval.json"))
    ap.add_argument("--skip-shb", action="store_true")
    ap.add_argument("--native", action="store_true", help="also evaluate at native image sizes")
    ap.add_argument("--brt-bands", action="store_true",
                    help="also split the held-out BRT counts by band of the frame (top fifth = far end)")
    a = ap.parse_args()
    torch.set_num_threads(2)
    net = NETS[a.model]
    a.ckpt = a.ckpt or os.path.join(net.ckpt_dir, "last.pt")
    server = lambda im: data.server_preprocess(im, mean=net.mean, std=net.std)  # noqa: E731
    native = lambda im: data.normalize_rgb(im, net.mean, net.std)  # noqa: E731
    ck = torch.load(a.ckpt, map_location="cpu", weights_only=False)   # our own checkpoint (NumPy RNG state, args)
    model = net.build(ck.get("args"))
    model.load_state_dict(ck["model"])
    res = {"model": net.name, "ckpt": a.ckpt, "step": ck.get("step"), "params": n_params(model)}
    model = fold_bn(model.eval())

    (_, _), (hn, hp) = data.brt_split()
    himgs = data.read_images(data.BRT, "train", hn)
    hgt = np.array([len(p) for p in hp], np.float64)
    res["brt_holdout"] = stats(counts(model, himgs, server), hgt)
    if a.native:
        res["brt_holdout_native"] = stats(counts(model, himgs, native), hgt)
    res["brt_holdout"]["gt_mean"] = round(float(hgt.mean()), 2)
    print("BRT held-out", res["brt_holdout"], res.get("brt_holdout_native"), flush=True)
    if a.brt_bands:
        res["brt_holdout_bands"] = band_counts(model, himgs, hp, server)
        print("BRT held-out by band", res["brt_holdout_bands"], flush=True)

    vt = data.vtest_frames(list(VTEST_HAND))
    vc = counts(model, [vt[i] for i in VTEST_HAND], server)
    res["vtest"] = {str(i): {"hand": VTEST_HAND[i], "model": round(float(c), 2)} for i, c in zip(VTEST_HAND, vc)}
    res["vtest_mae"] = round(float(np.mean(np.abs(vc - np.array(list(VTEST_HAND.values()))))), 2)
    print("vtest", res["vtest"], "MAE", res["vtest_mae"], flush=True)

    if not a.skip_shb:
        names, pts = data.load_split(data.SHB, "test")
        gt = np.array([len(p) for p in pts], np.float64)
        imgs = data.read_images(data.SHB, "test", names)
        res["shb_test"] = stats(counts(model, imgs, server), gt)
        print("SHB test (768x576)", res["shb_test"], flush=True)
        if a.native:
            res["shb_test_native"] = stats(counts(model, imgs, native), gt)
            print("SHB test native 1024x768", res["shb_test_native"], flush=True)
        del imgs

    res["speed_torch_768x576"] = [speed(model, 1), speed(model, 2)]
    print("speed", res["speed_torch_768x576"], flush=True)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
