#!/usr/bin/python3
"""Quick recipe check for crowdline-v2 (minutes, not hours): fit 20 ShanghaiTech B train
images (spread over the count range) from the MoveNet backbone and print, every 50 steps, the
count bias on those same 20 full frames through the server's resize. A recipe that cannot
fit them will not fit the whole set; compare candidates side by side at 1 thread each:

  nice -n 19 /usr/bin/python3 models/probe_fit.py --width 48 --gain 1 --bb 0.1 --minutes 12
  nice -n 19 /usr/bin/python3 models/probe_fit.py --width 64 --gain 10 --bb 0.3 --minutes 12
"""
import argparse, os, sys, time
import numpy as np, torch, torch.nn.functional as F
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data
from crowdnet import COUNT_SCALE
from crowdnet_v2 import CrowdNetV2
from backbone import MEAN, STD

ap = argparse.ArgumentParser()
ap.add_argument("--width", type=int, default=48)
ap.add_argument("--gain", type=float, default=1.0)
ap.add_argument("--bb", type=float, default=0.1)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--cw", type=float, default=1.0)
ap.add_argument("--freeze", type=int, default=2)
ap.add_argument("--batch", type=int, default=8)
ap.add_argument("--minutes", type=float, default=12)
a = ap.parse_args()
torch.set_num_threads(1); torch.manual_seed(1)
rng = np.random.default_rng(1)
names, pts = data.load_split(data.SHB, "train")
order = np.argsort([len(p) for p in pts])
pick = [int(order[i]) for i in np.linspace(0, len(order) - 1, 20).round().astype(int)]
imgs = data.read_images(data.SHB, "train", [names[i] for i in pick]); P = [pts[i] for i in pick]
gt = np.array([len(p) for p in P], np.float64)
s = data.CropSampler(rng, 256, (imgs, P), None, None, p_src=[1, 0, 0], mean=MEAN, std=STD)
m = CrowdNetV2(width=a.width, out_gain=a.gain); m.load_backbone(os.path.join(HERE, "work", "movenet-mobilenetv2.pt"))
for p in m.backbone.parameters(): p.requires_grad_(False)
tuned = m.backbone_params(a.freeze + 1)
for p in tuned: p.requires_grad_(True)
ids = {id(p) for p in m.backbone.parameters()}
new = [p for p in m.parameters() if id(p) not in ids]
opt = torch.optim.AdamW([{"params": new, "m": 1.0}, {"params": tuned, "m": a.bb}], lr=a.lr, weight_decay=1e-4)
X = [torch.from_numpy(data.server_preprocess(im, mean=MEAN, std=STD))[None] for im in imgs]
def ev():
    m.eval()
    with torch.no_grad(): c = np.array([float(m(x).sum()) * COUNT_SCALE for x in X])
    m.train(); e = c - gt
    dense = gt > np.median(gt)
    return f"bias {e.mean():+.1f} mae {np.abs(e).mean():.1f} dense-ratio {c[dense].sum()/gt[dense].sum():.3f} sparse-ratio {c[~dense].sum()/gt[~dense].sum():.3f}"
t0 = time.time(); step = 0; rl = rc = 0.0
print(vars(a), "gt", gt.sum(), flush=True)
while (time.time() - t0) / 60 < a.minutes:
    x, d, c = s.batch(a.batch)
    x, d, c = map(torch.from_numpy, (x, d, c))
    for g in opt.param_groups: g["lr"] = a.lr * g["m"] * min(1.0, (step + 1) / 50)
    pr = m(x); mse = F.mse_loss(pr, d); cnt = (pr.sum(dim=(1, 2, 3)) * COUNT_SCALE - c).abs().mean()
    loss = mse + a.cw * cnt
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 10.0); opt.step()
    step += 1; rl += float(mse); rc += float(cnt)
    if step % 50 == 0:
        print(f"step {step} {(time.time()-t0)/60:.1f}min mse {rl/50:.2f} cnt {rc/50:.2f} | {ev()}", flush=True); rl = rc = 0.0
print("final", step, ev(), flush=True)
