#!/usr/bin/python3
"""Train a crowdline density network: crowdline-v1 (from scratch, the default)
or crowdline-v2 (`--model crowdline-v2`: MoveNet's pretrained MobileNetV2 +
decoder; run models/convert_movenet.py once first).

Data: ShanghaiTech Part B train (400 images) + Beijing BRT train minus its last
120 frames by sorted name (held out as sparse-scene validation) + a few
person-free pictures from opencv-doc as empty crops.

Usage (CPU; uses CUDA automatically when torch sees one):
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 models/train.py --steps 18500 --max-minutes 105
  nice -n 19 env OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 models/train.py --model crowdline-v2 --threads 2
On a GPU, crops come from --loader-workers processes (one makes ~100 crops/s)
and --fit-minutes sizes the schedule to a fixed time (models/README.md has the
v2-g1 command: an H200 ran 961k crops in 7.2 minutes).
Resume: run the same command again; it continues from <ckpt-dir>/last.pt
(models/checkpoints/ for v1, models/checkpoints/v2/ for v2). Options that shape
the network (v2: --decoder-width, --out-gain) are taken from the checkpoint.
Warm restart: copy a checkpoint to <new ckpt-dir>/last.pt and pass
--cycle-start <its step> with a new --lr and --steps.
"""
import argparse
import inspect
import json
import os
import random
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bayes_loss import bayesian_loss  # noqa: E402
from crowdnet import COUNT_SCALE, n_params  # noqa: E402
import data  # noqa: E402
from nets import NETS  # noqa: E402

VTEST_FRAMES = [0, 100, 200, 300, 400, 500, 600, 700]
DENSE_VAL = 40   # densest ShanghaiTech B train images checked at each validation


def parse():
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--model", choices=sorted(NETS), default="crowdline-v1")
    net = NETS[pre.parse_known_args()[0].model]
    ap = argparse.ArgumentParser(parents=[pre])
    ap.add_argument("--steps", type=int, default=18500, help="total optimiser steps (LR schedule length)")
    ap.add_argument("--cycle-start", type=int, default=0,
                    help="step at which the learning-rate cycle (warm-up, then cosine to --steps) begins: "
                         "a warm restart of a resumed run at --lr")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=1e-4)
    ap.add_argument("--count-weight", type=float, default=1.0,
                    help="weight of the per-crop L1 count error (people) added to pixel MSE")
    ap.add_argument("--count-norm", choices=["none", "sqrt"], default="none",
                    help="divide each crop's count error by sqrt(true count + 1) (Poisson scale), so "
                         "an error of 3 on a sparse crop weighs more than on a dense one")
    ap.add_argument("--region-count-weight", type=float, default=0.0,
                    help="weight of a second L1 count error, per region of the crop (see --region-cells): "
                         "scores where the people are counted, not only how many per crop")
    ap.add_argument("--region-cells", type=int, default=8,
                    help="region side in output cells (8 cells = 64 input pixels at stride 8)")
    ap.add_argument("--bayes-weight", type=float, default=0.0,
                    help="weight of the Bayesian loss (point-supervised, bayes_loss.py) added to the others")
    ap.add_argument("--bayes-sigma", type=float, default=8.0, help="its Gaussian's width, input pixels")
    ap.add_argument("--bayes-background", type=float, default=0.15,
                    help="its background point's distance from the nearest head, x crop side; 0: no background term")
    ap.add_argument("--source-weights", default="0.45,0.45,0.10",
                    help="crop sources ShanghaiTech B, BRT, empty pictures[, ShanghaiTech A] (relative "
                         "weights; without a 4th value no ShanghaiTech A crops)")
    ap.add_argument("--sha-server-view", type=float, default=0.5,
                    help="share of ShanghaiTech A crops cut from the image stretched to 768x576 as the "
                         "server's fixed input size stretches it (the rest at the image's own scale)")
    ap.add_argument("--sha-scale", type=float, nargs=2, default=(0.6, 2.0), metavar=("LO", "HI"),
                    help="ShanghaiTech A scale jitter (log-uniform) on that view; above 1 upscales far crowds")
    ap.add_argument("--head-centred-crops", type=float, default=0.0,
                    help="share of ShanghaiTech A crops centred near a random head (favours the dense regions)")
    ap.add_argument("--sha-loss-weight", type=float, default=1.0,
                    help="weight of ShanghaiTech A crops' loss terms (pixel MSE, count and region errors) "
                         "against the other crops': a dense crop's errors are 10-100x a sparse one's, so "
                         "at 1 they would set Adam's step for the whole batch")
    ap.add_argument("--shb-count-power", type=float, default=0.0,
                    help="pick ShanghaiTech B images with probability ~ (count + 1) ** P (0: uniform; "
                         "1: a 300-person image 6x as often as a 50-person one)")
    ap.add_argument("--brt-server-view", type=float, default=0.5,
                    help="share of BRT crops taken from the frame stretched to 768x576 as the server "
                         "stretches it (the rest at its own aspect)")
    ap.add_argument("--uniform-empties", type=float, default=0.0,
                    help="share of empty crops that are flat frames (black, white, grey) instead of pictures")
    ap.add_argument("--freeze-bn-stats", action="store_true",
                    help="BatchNorm layers use their running statistics while training (their scale and "
                         "shift still learn), so what is fitted is exactly what is served")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="also keep an exponential moving average of the weights with this decay per step "
                         "(e.g. 0.998: about the last 500 steps); it is what is validated, and each snapshot "
                         "also writes emaNNNNN.pt, a checkpoint of the averaged weights")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--loader-workers", type=int, default=0,
                    help="processes that make training crops (0: the training process makes them); "
                         "a GPU needs many, since one process makes ~100 crops/s")
    ap.add_argument("--fit-minutes", type=float, default=0.0,
                    help="set --steps so that the run ends after about this many minutes, from the speed "
                         "measured over its first 200 steps (a borrowed GPU for a fixed time); the "
                         "cosine schedule then ends where the run does")
    ap.add_argument("--max-minutes", type=float, default=1e9, help="wall budget for this run")
    ap.add_argument("--ckpt-dir", default=net.ckpt_dir)
    ap.add_argument("--val-every", type=int, default=500, help="0: no validation")
    ap.add_argument("--snapshot-every", type=int, default=500)
    ap.add_argument("--save-minutes", type=float, default=4.0, help="also save last.pt this often")
    ap.add_argument("--no-resume", action="store_true")
    # Pretrained-backbone nets only (v2):
    ap.add_argument("--pretrained", default=os.path.join(HERE, "work", "movenet-mobilenetv2.pt"))
    ap.add_argument("--freeze-through", type=int, default=-1,
                    help="backbone blocks 0..N (and the stem) stay frozen")
    ap.add_argument("--backbone-lr-mult", type=float, default=1.0)
    ap.add_argument("--decoder-width", type=int, default=48, help="decoder channels (network shape)")
    ap.add_argument("--out-gain", type=float, default=1.0,
                    help="fixed multiplier on the output conv (network shape; folded into it on export)")
    ap.set_defaults(**net.train_defaults)
    return net, ap.parse_args()


def param_groups(model, a):
    """One group for a from-scratch net; for a pretrained backbone, freeze its first
    blocks and give the rest a lower learning rate than the new decoder."""
    if not hasattr(model, "backbone"):
        return [{"params": list(model.parameters()), "lr_mult": 1.0}]
    for p in model.backbone.parameters():
        p.requires_grad_(False)
    tuned = model.backbone_params(a.freeze_through + 1)
    for p in tuned:
        p.requires_grad_(True)
    ids = {id(p) for p in model.backbone.parameters()}
    new = [p for p in model.parameters() if id(p) not in ids]
    return [{"params": new, "lr_mult": 1.0}, {"params": tuned, "lr_mult": a.backbone_lr_mult}]


class CropStream(torch.utils.data.IterableDataset):
    """Endless training batches for a DataLoader: each worker process runs its own
    CropSampler, seeded by (seed, first step, worker), so a resumed run draws new crops."""

    def __init__(self, args, seed, sources, mean, std, sha):
        self.args, self.seed, self.sources, self.mean, self.std, self.sha = args, seed, sources, mean, std, sha

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        cv2.setNumThreads(1)   # the workers are the parallelism
        rng = np.random.default_rng([*self.seed, info.id if info else 0])
        sampler = data.sampler_for(self.args, rng, *self.sources, self.mean, self.std, sha=self.sha)
        while True:
            yield tuple(torch.from_numpy(t) for t in sampler.batch_with_sources(self.args["batch"], normalized=False))


def batches(a, rng, step, sources, net, dev, sha=None):
    """Iterator of (x, density, count, head points, source) batches on `dev`. Crops travel as uint8 pixels and
    are normalised on `dev` with normalize_rgb's formula, (RGB - 255 mean) / (255 std)."""
    if a.loader_workers > 0:
        stream = iter(torch.utils.data.DataLoader(
            CropStream(vars(a), (a.seed, step), sources, net.mean, net.std, sha), batch_size=None,
            num_workers=a.loader_workers, pin_memory=dev.type == "cuda", prefetch_factor=4))
    else:   # made here, from the run's own (checkpointed) generator
        sampler = data.sampler_for(vars(a), rng, *sources, net.mean, net.std, sha=sha)
        stream = (tuple(torch.from_numpy(t) for t in sampler.batch_with_sources(a.batch, normalized=False))
                  for _ in iter(int, 1))
    shift = torch.tensor(net.mean, device=dev).view(1, 3, 1, 1) * 255
    scale = torch.tensor(net.std, device=dev).view(1, 3, 1, 1) * 255
    for px, d, c, pts, src in stream:
        x = px.to(dev, non_blocking=True).flip(-1).permute(0, 3, 1, 2).float()
        yield (((x - shift) / scale).contiguous(), d.to(dev, non_blocking=True), c.to(dev, non_blocking=True),
               pts.to(dev, non_blocking=True), src.to(dev, non_blocking=True))


def lr_at(step, total, base, warm=200, start=0):
    step, total = step - start, total - start
    if step < warm:
        return base * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    # a Python float: a NumPy scalar in the optimiser state ties checkpoints to one NumPy version
    return float(1e-5 + 0.5 * (base - 1e-5) * (1 + np.cos(np.pi * min(1.0, t))))


def region_count_error(pred, target, cells):
    """Per crop, the mean L1 count error (people) over cells x cells regions of the maps: the
    crop's count can be right while people are moved between regions (a far-end queue counted,
    a dense patch under-counted); this scores each region's count."""
    h, w = pred.shape[-2:]
    pad = (0, -w % cells, 0, -h % cells)   # zero cells, so edge regions sum exactly what they hold
    sums = lambda m: F.avg_pool2d(F.pad(m, pad), cells) * (cells * cells)   # noqa: E731
    return (sums(pred) - sums(target)).abs().mean(dim=(1, 2, 3)) * COUNT_SCALE


def train_mode(model, freeze_bn_stats):
    """Training mode; with frozen statistics BatchNorm normalises as at inference."""
    model.train()
    if freeze_bn_stats:
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()


@torch.no_grad()
def count_images(model, dev, imgs, preprocess):
    was_training = [m.training for m in model.modules()]
    model.eval()
    out = []
    for im in imgs:
        x = torch.from_numpy(preprocess(im))[None].to(dev)
        out.append(float(model(x).sum()) * COUNT_SCALE)
    for m, t in zip(model.modules(), was_training):
        m.train(t)
    return np.asarray(out)


def validate(model, dev, val, net):
    brt_imgs, brt_gt, vt, (dense_imgs, dense_gt), (sha_imgs, sha_gt) = val
    vt_frames = [vt[i] for i in VTEST_FRAMES if i in vt]
    server = lambda im: data.server_preprocess(im, mean=net.mean, std=net.std)  # noqa: E731
    native = lambda im: data.normalize_rgb(im, net.mean, net.std)  # noqa: E731
    pred = count_images(model, dev, brt_imgs, server)
    err = pred - brt_gt
    pred_native = count_images(model, dev, brt_imgs, native)
    vtc = count_images(model, dev, vt_frames, server)
    dense = count_images(model, dev, dense_imgs, server)
    sha = count_images(model, dev, sha_imgs, server)
    extra = {}
    if len(sha_gt):   # held-out ShanghaiTech A train images, at the server's default (fixed) size
        extra = {"sha_holdout_mae": round(float(np.abs(sha - sha_gt).mean()), 2),
                 "sha_holdout_rmse": round(float(np.sqrt(((sha - sha_gt) ** 2).mean())), 2),
                 "sha_holdout_ratio": round(float(sha.sum() / sha_gt.sum()), 3)}
    return {**extra,
        "shb_train_dense_ratio": round(float(dense.sum() / dense_gt.sum()), 3),
        "shb_train_dense_mae": round(float(np.abs(dense - dense_gt).mean()), 2),
        "brt_holdout_mae": float(np.abs(err).mean()),
        "brt_holdout_rmse": float(np.sqrt((err ** 2).mean())),
        "brt_holdout_bias": float(err.mean()),
        "brt_holdout_native_mae": float(np.abs(pred_native - brt_gt).mean()),
        "vtest": [round(float(c), 1) for c in vtc],
    }


def main():
    net, a = parse()
    torch.set_num_threads(a.threads)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = True   # fixed crop size: pick the fastest kernels once
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.ckpt_dir, exist_ok=True)
    t_load = time.time()

    shb_names, shb_pts = data.load_split(data.SHB, "train")
    shb_imgs = data.read_images(data.SHB, "train", shb_names)
    (bn, bp), (hn, hp) = data.brt_split()
    brt_imgs = data.read_images(data.BRT, "train", bn)
    hold_imgs = data.read_images(data.BRT, "train", hn)
    neg = data.read_negatives()
    vt = data.vtest_frames(VTEST_FRAMES)
    # Fit on the densest training images, where v2 under-counts most (not a held-out score:
    # ShanghaiTech B has no validation split, and its test split must not pick checkpoints).
    dense_idx = np.argsort([len(p) for p in shb_pts])[-DENSE_VAL:]
    dense_val = ([shb_imgs[i] for i in dense_idx], np.array([len(shb_pts[i]) for i in dense_idx], np.float32))
    sha_train, sha_val = None, ([], np.zeros(0, np.float32))
    if data.source_weights(a.source_weights)[3] > 0:
        (an, ap_), (vn, vp) = data.sha_split()
        sha_train = (data.read_images(data.SHA, "train", an), ap_)
        sha_val = (data.read_images(data.SHA, "train", vn), np.array([len(p) for p in vp], np.float32))
        print(f"loaded SHA train {len(an)} (held out {len(vn)}: {vn[0]}..{vn[-1]})", flush=True)
    val = (hold_imgs, np.array([len(p) for p in hp], np.float32), vt, dense_val, sha_val)
    print(f"loaded SHB {len(shb_imgs)}, BRT train {len(brt_imgs)} (held out {len(hold_imgs)}: "
          f"{hn[0]}..{hn[-1]}), negatives {len(neg)} in {time.time() - t_load:.0f}s", flush=True)

    last = os.path.join(a.ckpt_dir, "last.pt")
    resuming = os.path.exists(last) and not a.no_resume
    # our own checkpoint (it also holds the NumPy RNG state and the args), so a full unpickle
    ck = torch.load(last, map_location=dev, weights_only=False) if resuming else None
    if ck is not None:   # the network's shape is the checkpoint's, whatever this command line says
        for opt, kw in net.arch.items():
            # a checkpoint from before an option existed was made with the constructor's default
            saved = ck.get("args", {}).get(opt, inspect.signature(net.make).parameters[kw].default)
            if saved != getattr(a, opt):
                print(f"--{opt.replace('_', '-')} {getattr(a, opt)} ignored: the checkpoint has {saved}",
                      flush=True)
            setattr(a, opt, saved)
    model = net.build(vars(a))
    if hasattr(model, "load_backbone") and not resuming:
        assert os.path.exists(a.pretrained), f"{a.pretrained} missing: run models/convert_movenet.py first"
        model.load_backbone(a.pretrained)
        print(f"backbone weights from {a.pretrained}", flush=True)
    model = model.to(dev)
    opt = torch.optim.AdamW(param_groups(model, a), lr=a.lr, weight_decay=a.wd,
                            **({"fused": True} if dev.type == "cuda" else {}))
    step = 0
    history = []
    if resuming:
        model.load_state_dict(ck["model"])
        mults = [g["lr_mult"] for g in opt.param_groups]
        try:
            opt.load_state_dict(ck["opt"])
        except ValueError as e:   # e.g. --freeze-through changed: keep the weights, restart Adam's moments
            print(f"optimizer state not restored ({e})", flush=True)
        except KeyError:   # recover_checkpoint.py's checkpoints hold weights only
            print("no optimizer state in the checkpoint: Adam's moments start afresh", flush=True)
        for g, m in zip(opt.param_groups, mults):   # the command line's multipliers win over the saved ones
            g["lr_mult"] = m
        step = ck["step"]
        history = ck.get("history", [])
        if "rng" in ck:
            rng.bit_generator.state = ck["rng"]
            torch.set_rng_state(ck["torch_rng"].cpu())   # map_location moved it to the device
        else:   # no generator state saved: seed from --seed and the step, so crops differ from step 0's
            rng = np.random.default_rng([a.seed, step])
            torch.manual_seed(a.seed * 1_000_003 + step)
        print(f"resumed from {last} at step {step}" + (f" (recovered from {ck['recoveredFrom']})"
              if "recoveredFrom" in ck else ""), flush=True)
    # The average follows the weights only: with --freeze-bn-stats the BatchNorm statistics are
    # fixed, so the averaged weights are served with the statistics they were fitted with.
    ema = None
    if a.ema > 0 and resuming and "ema" in ck:
        ema = {k: v.to(dev) for k, v in ck["ema"].items()}
        print("resumed the weights' moving average", flush=True)
    elif a.ema > 0:
        ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
        print("moving average starts from the current weights", flush=True)
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"{net.name}: params {n_params(model)} ({n_train} trained), device {dev}, threads {a.threads}, "
          f"args {vars(a)}", flush=True)

    def save(path, weights=None):
        state = {"model": weights if weights is not None else model.state_dict(), "opt": opt.state_dict(),
                 "step": step, "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                 "history": history, "args": vars(a)}
        if ema is not None:
            state["ema"] = ema
        torch.save(state, path + ".tmp")
        os.replace(path + ".tmp", path)

    # state_dict() tensors share the parameters' storage, which the optimiser updates in place
    live = model.state_dict()
    floats = [k for k, v in live.items() if v.dtype.is_floating_point]
    ema_avg, ema_cur = ([ema[k] for k in floats], [live[k] for k in floats]) if ema is not None else ([], [])
    ema_other = [(ema[k], v) for k, v in live.items() if not v.dtype.is_floating_point] if ema is not None else []

    @torch.no_grad()
    def update_ema():
        # one fused kernel per list rather than two per tensor: on a GPU the per-tensor
        # launches would cost more than the training step
        torch._foreach_mul_(ema_avg, a.ema)
        torch._foreach_add_(ema_avg, ema_cur, alpha=1 - a.ema)
        for avg, cur in ema_other:
            avg.copy_(cur)

    def validated():
        """Validation of what would be shipped: the moving average when there is one."""
        if ema is None:
            return validate(model, dev, val, net)
        raw = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(ema)
        v = validate(model, dev, val, net)
        model.load_state_dict(raw)
        v["of"] = "ema"
        return v

    t0 = t_saved = time.time()
    t_data = t_comp = 0.0
    run_loss = run_mse = run_cnt = run_bay = 0.0
    n_run = 0
    stream = batches(a, rng, step, ((shb_imgs, shb_pts), (brt_imgs, bp), neg), net, dev, sha_train)
    fit_from, fit_at, t_fit = step + 50, step + 200, None
    train_mode(model, a.freeze_bn_stats)
    while step < a.steps:
        if (time.time() - t0) / 60 > a.max_minutes:
            print(f"max-minutes reached at step {step}", flush=True)
            break
        if a.fit_minutes and step in (fit_from, fit_at):
            if dev.type == "cuda":
                torch.cuda.synchronize()
            if step == fit_from:
                t_fit = time.time()
            else:   # the warm-up (200 steps) is over, so changing the total only shapes the cosine
                per_step = (time.time() - t_fit) / (fit_at - fit_from)
                left = a.fit_minutes * 60 - (time.time() - t0)
                a.steps = step + max(1, int(0.95 * left / per_step))
                print(f"fit-minutes: {per_step * 1000:.1f} ms/step, --steps set to {a.steps}", flush=True)
        ta = time.time()
        x, d, c, pts, src = next(stream)
        tb = time.time()
        lr = lr_at(step, a.steps, a.lr, start=a.cycle_start)
        for g in opt.param_groups:
            g["lr"] = lr * g.get("lr_mult", 1.0)
        pred = model(x)
        # per-crop weights: 1, or --sha-loss-weight for ShanghaiTech A crops (mean of weighted
        # terms, so a run without ShanghaiTech A computes exactly the unweighted losses)
        wt = torch.ones_like(c).masked_fill(src == 3, a.sha_loss_weight)
        mse = (((pred - d) ** 2).mean(dim=(1, 2, 3)) * wt).mean()
        cnt_err = (pred.sum(dim=(1, 2, 3)) * COUNT_SCALE - c).abs()
        if a.count_norm == "sqrt":
            cnt_err = cnt_err / torch.sqrt(c + 1.0)
        cnt = (cnt_err * wt).mean()
        loss = mse + a.count_weight * cnt
        if a.region_count_weight > 0:
            loss = loss + a.region_count_weight * (region_count_error(pred, d, a.region_cells) * wt).mean()
        if a.bayes_weight > 0:
            bay = bayesian_loss(pred * COUNT_SCALE, pts, c, a.bayes_sigma,
                                a.bayes_background * a.crop if a.bayes_background > 0 else None)
            loss = loss + a.bayes_weight * bay
            run_bay += bay.detach()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        if ema is not None:
            update_ema()
        step += 1
        tc = time.time()
        t_data += tb - ta
        t_comp += tc - tb
        run_loss += loss.detach()   # summed on the device: float() here would wait for the GPU every step
        run_mse += mse.detach()
        run_cnt += cnt.detach()
        n_run += 1
        if step % 50 == 0:
            el = time.time() - t0
            print(f"step {step}/{a.steps} loss {run_loss / n_run:.3f} mse {run_mse / n_run:.3f} "
                  f"cntL1 {run_cnt / n_run:.2f} " + (f"bayes {run_bay / n_run:.2f} " if a.bayes_weight > 0 else "") +
                  f"lr {lr:.2e} "
                  f"data {t_data / n_run:.3f}s comp {t_comp / n_run:.3f}s/step elapsed {el / 60:.1f}min",
                  flush=True)
            t_data = t_comp = run_loss = run_mse = run_cnt = run_bay = 0.0
            n_run = 0
        if a.val_every and (step % a.val_every == 0 or step == a.steps):
            v = validated()
            v["step"] = step
            v["minutes"] = round((time.time() - t0) / 60, 1)
            history.append(v)
            print("VAL " + json.dumps(v), flush=True)
        if step % a.snapshot_every == 0 or step == a.steps or time.time() - t_saved > 60 * a.save_minutes:
            save(last)
            t_saved = time.time()
            if step % a.snapshot_every == 0:
                save(os.path.join(a.ckpt_dir, f"step{step:05d}.pt"))
                if ema is not None:
                    save(os.path.join(a.ckpt_dir, f"ema{step:05d}.pt"), weights=ema)
    save(last)
    if ema is not None and step % a.snapshot_every:   # the average where the run stopped, for export.py
        save(os.path.join(a.ckpt_dir, f"ema{step:05d}.pt"), weights=ema)
    print(f"done: step {step}, this run {(time.time() - t0) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
