#!/usr/bin/python3
"""Average the weights of several checkpoints of one run (stochastic weight
averaging, Izmailov et al. 2018) into a checkpoint export.py and eval.py read.

Snapshots taken along the low-rate end of a schedule sit around the same
minimum; their mean is usually flatter and less tied to the last few hundred
noisy batches than any one of them. BatchNorm statistics of an average are not
the average of the statistics, so by default they are re-estimated on training
crops drawn exactly as train.py draws them (--bn-batches 0 keeps the plain mean).

Usage:
  /usr/bin/python3 models/average.py --model crowdline-v2 --out models/checkpoints/v2-r7/swa.pt \
      models/checkpoints/v2-r7/step05000.pt models/checkpoints/v2-r7/step05500.pt ...
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402
from nets import NETS  # noqa: E402


def mean_state(states):
    out = {}
    for k, v in states[0].items():
        if v.is_floating_point():
            out[k] = sum(s[k].double() for s in states).div(len(states)).to(v.dtype)
        else:   # e.g. BatchNorm's num_batches_tracked
            out[k] = v.clone()
    return out


@torch.no_grad()
def reestimate_bn(model, net, args, batches, seed):
    """Cumulative BatchNorm statistics over `batches` training batches (momentum None)."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns or batches <= 0:
        return 0
    shb_names, shb_pts = data.load_split(data.SHB, "train")
    (bn_names, bp), _ = data.brt_split()
    sampler = data.sampler_for(args, np.random.default_rng(seed),
                               (data.read_images(data.SHB, "train", shb_names), shb_pts),
                               (data.read_images(data.BRT, "train", bn_names), bp), data.read_negatives(),
                               net.mean, net.std)
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    for _ in range(batches):
        x, _, _ = sampler.batch(args.get("batch", 16))
        model(torch.from_numpy(x))
    model.eval()
    return len(bns)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(NETS), default="crowdline-v2")
    ap.add_argument("--out", required=True)
    ap.add_argument("--bn-batches", type=int, default=50,
                    help="training batches to re-estimate BatchNorm statistics on (0: keep the mean)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("ckpts", nargs="+")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    net = NETS[a.model]
    cks = [torch.load(p, map_location="cpu", weights_only=False) for p in a.ckpts]   # our own checkpoints
    shapes = {tuple(sorted((k, ck["args"].get(k)) for k in net.arch)) for ck in cks}
    if len(shapes) != 1:
        sys.exit(f"checkpoints differ in network shape: {shapes}")
    args = cks[-1]["args"]
    model = net.build(args)
    model.load_state_dict(mean_state([ck["model"] for ck in cks]))
    n_bn = reestimate_bn(model, net, args, a.bn_batches, a.seed)
    steps = [ck["step"] for ck in cks]
    # The last checkpoint's optimiser and random state come along, so train.py can resume
    # from the average (e.g. a --freeze-bn-stats fine-tune on the re-estimated statistics).
    last = cks[-1]
    torch.save({"model": model.state_dict(), "step": max(steps), "args": args,
                **{k: last[k] for k in ("opt", "rng", "torch_rng", "history") if k in last},
                "averaged": {"ckpts": a.ckpts, "steps": steps, "bn_batches": a.bn_batches if n_bn else 0}},
               a.out)
    print(f"averaged {len(cks)} checkpoints (steps {steps}) -> {a.out}; "
          f"BatchNorm layers re-estimated: {n_bn} on {a.bn_batches if n_bn else 0} batches")


if __name__ == "__main__":
    main()
