"""Dataset loading, ground-truth density maps and augmentation for crowdline-v1.

Images are read from /work/shared/datasets (never copied into the repo) and
kept in memory as decoded uint8 BGR arrays; ground truth is derived on the fly
from the head points at the network's output-stride resolution (a crop of
S x S pixels gets an (S/8) x (S/8) density map), which is cheap (a 32x32 splat +
Gaussian blur) and exactly follows every geometric augmentation.
"""
import json
import os
import re

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter

from crowdnet import DENSITY_SCALE, MEAN, STD, STRIDE

DATA_ROOT = os.environ.get("CROWDLINE_DATA", "/work/shared/datasets")
SHB = os.path.join(DATA_ROOT, "shanghaitech-b")
SHA = os.path.join(DATA_ROOT, "shanghaitech-a")
SHA_HOLDOUT = 30            # last 30 ShanghaiTech A train images in natural name order (IMG_271..300)
                            # = dense validation: `crowdline eval .../shanghaitech-a/train --skip 270`
BRT = os.path.join(DATA_ROOT, "beijing-brt")
BRT_HOLDOUT = 120           # last 120 BRT train frames (sorted by name) = sparse validation
# opencv-doc's sample pictures and video (CROWDLINE_OPENCV_DATA: a copy of them, e.g. on a GPU box)
OPENCV_DATA = os.environ.get("CROWDLINE_OPENCV_DATA", "/usr/share/doc/opencv-doc/examples/data")
# Person-free pictures shipped with opencv-doc, used as empty (count 0) crops:
# buildings, streets, aerial views, circuit boards, still lifes, texture.
NEGATIVES = ["building.jpg", "home.jpg", "leuvenA.jpg", "leuvenB.jpg", "aero1.jpg",
             "aero3.jpg", "board.jpg", "stuff.jpg", "blox.jpg", "box_in_scene.png",
             "fruits.jpg", "starry_night.jpg", "orange.jpg", "baboon.jpg"]
VTEST = os.path.join(OPENCV_DATA, "vtest.avi")

PREFERRED_W, PREFERRED_H = 768, 576
SIGMA = 1.0   # Gaussian sigma in output cells (= 8 input pixels)



def load_split(root, split):
    pts = json.load(open(os.path.join(root, split, "points.json")))
    names = sorted(pts)
    return names, [np.asarray(pts[n], np.float32).reshape(-1, 2) for n in names]


def read_images(root, split, names):
    return [cv2.imread(os.path.join(root, split, "images", n), cv2.IMREAD_COLOR) for n in names]


def natural_key(name):
    """IMG_9 before IMG_10, as `crowdline eval` sorts (compareNatural)."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def sha_split():
    """ShanghaiTech A train, split into (names, points) for training and the held-out last
    SHA_HOLDOUT by natural name order, which picks checkpoints (the test split never does)."""
    names, pts = load_split(SHA, "train")
    order = sorted(range(len(names)), key=lambda i: natural_key(names[i]))
    names, pts = [names[i] for i in order], [pts[i] for i in order]
    k = len(names) - SHA_HOLDOUT
    return (names[:k], pts[:k]), (names[k:], pts[k:])


def brt_split():
    names, pts = load_split(BRT, "train")
    k = len(names) - BRT_HOLDOUT
    return (names[:k], pts[:k]), (names[k:], pts[k:])


def normalize_rgb(img_bgr, mean=MEAN, std=STD):
    """uint8 BGR HxWx3 -> float32 3xHxW, RGB, (x/255 - mean)/std (the manifest's recipe;
    mean/std are the model's: v1 ImageNet, v2 MoveNet's 0.5/0.5)."""
    rgb = img_bgr[:, :, ::-1].astype(np.float32)
    return ((rgb - np.float32(255) * np.asarray(mean, np.float32))
            / (np.float32(255) * np.asarray(std, np.float32))).transpose(2, 0, 1).copy()


def server_preprocess(img_bgr, w=PREFERRED_W, h=PREFERRED_H, mean=MEAN, std=STD):
    """What the crowdline server does: resize to preferredSize (bilinear,
    half-pixel centres, no antialias == cv2.INTER_LINEAR), RGB, normalise."""
    if img_bgr.shape[1] != w or img_bgr.shape[0] != h:
        img_bgr = cv2.resize(img_bgr, (w, h), interpolation=cv2.INTER_LINEAR)
    return normalize_rgb(img_bgr, mean, std)


def density_map(points, out_h, out_w, sigma=SIGMA):
    """Head points (input-pixel coords of the crop) -> density at stride 8, sum == len(points).

    Each point is splatted bilinearly onto the output grid (cell i is centred on
    input pixel (i + 0.5) * 8), then blurred with a Gaussian (mode 'reflect'
    keeps the mass inside the crop so the map sums exactly to the head count).
    """
    d = np.zeros((out_h, out_w), np.float64)
    if len(points):
        g = points / STRIDE - 0.5
        gx = np.clip(g[:, 0], 0, out_w - 1)
        gy = np.clip(g[:, 1], 0, out_h - 1)
        x0 = np.floor(gx).astype(int)
        y0 = np.floor(gy).astype(int)
        fx = gx - x0
        fy = gy - y0
        x1 = np.minimum(x0 + 1, out_w - 1)
        y1 = np.minimum(y0 + 1, out_h - 1)
        np.add.at(d, (y0, x0), (1 - fx) * (1 - fy))
        np.add.at(d, (y0, x1), fx * (1 - fy))
        np.add.at(d, (y1, x0), (1 - fx) * fy)
        np.add.at(d, (y1, x1), fx * fy)
        d = gaussian_filter(d, sigma, mode="reflect", truncate=3.0)
    return d.astype(np.float32)


def read_negatives():
    return [cv2.imread(os.path.join(OPENCV_DATA, n), cv2.IMREAD_COLOR) for n in NEGATIVES]


def source_weights(text):
    """--source-weights: ShanghaiTech B, BRT, empty pictures[, ShanghaiTech A] (relative);
    three values (every run before ShanghaiTech A was added) mean no ShanghaiTech A crops."""
    w = [float(v) for v in text.split(",")]
    if len(w) == 3:
        w.append(0.0)
    if len(w) != 4 or min(w) < 0 or sum(w) <= 0:
        raise ValueError(f"--source-weights wants 3 or 4 non-negative weights, got {text!r}")
    return w


def sampler_for(args, rng, shb, brt, neg, mean, std, sha=None):
    """The CropSampler a train.py run uses, from its (saved) args dict."""
    p_src = source_weights(args.get("source_weights", "0.45,0.45,0.10"))
    if p_src[3] > 0 and sha is None:
        raise ValueError("ShanghaiTech A crops asked for (4th source weight) but no images given")
    return CropSampler(rng, args.get("crop", 256), shb, brt, neg,
                       p_src=p_src,
                       mean=mean, std=std, p_uniform=args.get("uniform_empties", 0.0),
                       shb_count_power=args.get("shb_count_power", 0.0),
                       p_brt_server=args.get("brt_server_view", 0.5), sha=sha,
                       p_sha_server=args.get("sha_server_view", 0.5),
                       sha_scale=tuple(args.get("sha_scale", (0.6, 2.0))),
                       p_head_centre=args.get("head_centred_crops", 0.0))


class CropSampler:
    """Random training crops: scale/aspect jitter, flips, colour jitter, greyscale."""

    def __init__(self, rng, crop=256, shb=None, brt=None, neg=None,
                 p_src=(0.45, 0.45, 0.10), p_grey=0.4, mean=MEAN, std=STD, p_uniform=0.0,
                 shb_count_power=0.0, p_brt_server=0.5, sha=None, p_sha_server=0.5,
                 sha_scale=(0.6, 2.0), p_head_centre=0.0):
        self.rng = rng
        self.mean, self.std = mean, std
        self.crop = crop
        self.shb = shb            # (images, points)
        self.brt = brt
        self.neg = neg            # images
        self.sha = sha            # (images, points): ShanghaiTech A, dense crowds
        p_src = list(p_src) + [0.0] * (4 - len(p_src))   # sources: SHB, BRT, empty, SHA
        self.p_src = np.asarray(p_src, np.float64) / np.sum(p_src)
        self.p_grey = p_grey
        self.p_uniform = p_uniform   # share of empty crops that are flat frames (see _uniform)
        self.p_brt_server = p_brt_server   # share of BRT crops stretched as the server stretches them
        self.p_sha_server = p_sha_server   # share of SHA crops cut from the server's 768x576 stretch
        self.sha_scale = sha_scale   # SHA scale jitter range (of the server view or of the image)
        self.p_head_centre = p_head_centre   # share of SHA crops centred near a random head
        # ShanghaiTech B images picked with probability ~ (count + 1) ** power: the densest
        # images are few (23 of 400 have 300+ people) but hold most of the test error.
        self.p_shb = None
        if shb is not None and shb_count_power:
            w = (np.array([len(p) for p in shb[1]], np.float64) + 1.0) ** shb_count_power
            self.p_shb = w / w.sum()

    def _geometry(self, src, shape):
        r = self.rng
        h, w = shape[:2]
        if src == 0:      # ShanghaiTech B 1024x768; the server shrinks it by 0.75
            s = float(np.exp(r.uniform(np.log(0.4), np.log(1.15))))
            sx, sy = s, s
        elif src == 1:    # BRT 360x640 portrait
            if r.random() < self.p_brt_server:   # as the server sees it: stretched to 768x576
                j = float(np.exp(r.uniform(np.log(0.75), np.log(1.25))))
                sx, sy = PREFERRED_W / w * j, PREFERRED_H / h * j
            else:
                s = float(np.exp(r.uniform(np.log(0.75), np.log(1.6))))
                sx, sy = s, s
        elif src == 3:    # ShanghaiTech A, 293x182 to 1024x1024: the server stretches each to
            # 768x576 (fixed policy), so a small image is upscaled and a far crowd's heads are a few
            # pixels; native/tiled policies see it unstretched. Jitter reaches 2x both ways: it
            # teaches heads of 3-30 px, and upscaled far crowds.
            lo, hi = self.sha_scale
            j = float(np.exp(r.uniform(np.log(lo), np.log(hi))))
            if r.random() < self.p_sha_server:
                sx, sy = PREFERRED_W / w * j, PREFERRED_H / h * j
            else:
                sx, sy = j, j
        else:
            s = float(np.exp(r.uniform(np.log(0.4), np.log(1.5))))
            sx, sy = s, s
        a = float(np.exp(r.uniform(-0.12, 0.12)))   # mild aspect jitter
        return sx * a, sy / a

    def sample(self, normalized=True):
        """One crop: (3xSxS float32 input, or SxSx3 uint8 BGR pixels when not `normalized`;
        density map; count)."""
        return self.sample_with_points(normalized)[:3]

    def sample_with_points(self, normalized=True):
        """sample()'s crop, density and count, plus the head points (Nx2 float32, crop pixels)
        the density was made from."""
        r = self.rng
        src = int(r.choice(4, p=self.p_src))
        if src == 0:
            n = len(self.shb[0])
            i = int(r.choice(n, p=self.p_shb)) if self.p_shb is not None else int(r.integers(n))
            img, pts = self.shb[0][i], self.shb[1][i]
        elif src == 1:
            i = int(r.integers(len(self.brt[0])))
            img, pts = self.brt[0][i], self.brt[1][i]
        elif src == 3:
            i = int(r.integers(len(self.sha[0])))
            img, pts = self.sha[0][i], self.sha[1][i]
        else:
            if self.p_uniform > 0 and r.random() < self.p_uniform:
                img = self._uniform()
            else:
                img = self.neg[int(r.integers(len(self.neg)))]
            pts = np.zeros((0, 2), np.float32)
        h, w = img.shape[:2]
        sx, sy = self._geometry(src, img.shape)
        c = self.crop
        ws, hs = c / sx, c / sy            # source window size
        if src == 3 and len(pts) and r.random() < self.p_head_centre:
            # a window around a random head: heads are drawn in proportion to where they are,
            # so this favours the dense regions (a plain random window is often sky or roof)
            cx, cy = pts[int(r.integers(len(pts)))] + r.uniform(-0.25, 0.25, 2) * (ws, hs)
            x0 = float(np.clip(cx - ws / 2, 0, w - ws)) if w > ws else r.uniform(w - ws, 0)
            y0 = float(np.clip(cy - hs / 2, 0, h - hs)) if h > hs else r.uniform(h - hs, 0)
        else:
            x0 = r.uniform(0, w - ws) if w > ws else r.uniform(w - ws, 0)
            y0 = r.uniform(0, h - hs) if h > hs else r.uniform(h - hs, 0)
        # dst pixel centre u+0.5 == (x - x0 + 0.5) * sx  (same convention as cv2.resize)
        M = np.array([[sx, 0, (0.5 - x0) * sx - 0.5],
                      [0, sy, (0.5 - y0) * sy - 0.5]], np.float64)
        out = cv2.warpAffine(img, M, (c, c), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT,
                             borderValue=tuple(255.0 * float(v) for v in self.mean[::-1]))
        p = np.empty_like(pts)
        p[:, 0] = (pts[:, 0] - x0) * sx
        p[:, 1] = (pts[:, 1] - y0) * sy
        keep = (p[:, 0] >= 0) & (p[:, 0] < c) & (p[:, 1] >= 0) & (p[:, 1] < c)
        p = p[keep]
        if r.random() < 0.5:
            out = out[:, ::-1]
            p[:, 0] = c - p[:, 0]
        out = self._colour(out)
        den = density_map(p, c // STRIDE, c // STRIDE)
        x = normalize_rgb(out, self.mean, self.std) if normalized else out
        self.last_source = src
        return x, den * DENSITY_SCALE, float(len(p)), p.astype(np.float32)

    def _uniform(self):
        """A flat frame with no people: black, white or any grey/colour, with a little sensor
        noise or a smooth gradient (covered lens, night, over-exposure, a blank test frame)."""
        r = self.rng
        f = np.empty((self.crop, self.crop, 3), np.float32)
        f[:] = r.choice([0.0, 255.0, r.uniform(0, 255)]) if r.random() < 0.5 else r.uniform(0, 255, 3)
        if r.random() < 0.5:
            f += np.linspace(0, r.uniform(-40, 40), self.crop, dtype=np.float32)[:, None, None]
        f += r.normal(0, r.uniform(0, 4), size=f.shape).astype(np.float32)
        return np.clip(f, 0, 255).astype(np.uint8)

    def _colour(self, img):
        r = self.rng
        if r.random() < self.p_grey:
            g = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_BGR2GRAY)
            img = cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)
            f = img.astype(np.float32)
        else:
            f = img.astype(np.float32)
            sat = r.uniform(0.6, 1.4)
            grey = f.mean(axis=2, keepdims=True)
            f = grey + (f - grey) * sat
            f = f * r.uniform(0.9, 1.1, size=3).astype(np.float32)   # white balance
        f = f * r.uniform(0.65, 1.35) + r.uniform(-30, 30)            # contrast / brightness
        if r.random() < 0.3:                                          # gamma
            f = 255.0 * (np.clip(f, 0, 255) / 255.0) ** r.uniform(0.7, 1.4)
        if r.random() < 0.15:
            f = cv2.GaussianBlur(f, (0, 0), r.uniform(0.5, 1.2))
        if r.random() < 0.2:
            f = f + r.normal(0, r.uniform(2, 8), size=f.shape).astype(np.float32)
        return np.clip(f, 0, 255).astype(np.uint8)

    def batch(self, n, normalized=True):
        """n crops stacked; `normalized=False` leaves the pixels uint8 (4x less to move between
        processes; train.py normalises them on the GPU with the same formula)."""
        return self.batch_with_points(n, normalized)[:3]

    def batch_with_points(self, n, normalized=True):
        """batch()'s arrays (the same draws), plus the crops' head points padded to
        n x max(count) x 2 (crop i's first count[i] rows are its points)."""
        return self.batch_with_sources(n, normalized)[:4]

    def batch_with_sources(self, n, normalized=True):
        """batch_with_points()'s arrays plus each crop's source (int64: 0 ShanghaiTech B,
        1 BRT, 2 empty, 3 ShanghaiTech A), for per-source loss weights."""
        xs, ds, cs, ps, srcs = [], [], [], [], []
        for _ in range(n):
            x, d, c, p = self.sample_with_points(normalized)
            xs.append(x), ds.append(d), cs.append(c), ps.append(p), srcs.append(self.last_source)
        pts = np.zeros((n, max(1, max(len(p) for p in ps)), 2), np.float32)
        for i, p in enumerate(ps):
            pts[i, :len(p)] = p
        return np.stack(xs), np.stack(ds)[:, None], np.asarray(cs, np.float32), pts, np.asarray(srcs, np.int64)


def vtest_frames(indices):
    """{index: BGR frame} of vtest.avi ({} where the video is not installed)."""
    if not os.path.exists(VTEST):
        return {}
    cap = cv2.VideoCapture(VTEST)
    want = set(indices)
    frames = {}
    i = 0
    while want:
        ok, f = cap.read()
        if not ok:
            break
        if i in want:
            frames[i] = f
            want.discard(i)
        i += 1
    return frames
