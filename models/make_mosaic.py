#!/usr/bin/python3
"""Big frames from a dataset split, for measuring input-size policies.

Each output frame is a WxH mosaic (default 3840x2160, 4K) of a grid of the
split's images (default 4 x 3: cells of 960x720), each image scaled to fit its
cell with its aspect kept (about its own resolution: ShanghaiTech A images are
293-1024 px wide) and centred on grey. So a frame holds 12 crowds at close to
their native detail, like a wide 4K view of a square or a stand: `fixed`
shrinks the whole frame 5 x to 768x576, `tiled` keeps the detail.
Head points are moved with their image; the output is in the dataset layout
(`<out>/images/*.jpg`, `<out>/points.json`), so `crowdline eval <out>` reads it.

    /usr/bin/python3 models/make_mosaic.py /work/shared/datasets/shanghaitech-a/test /tmp/sha-4k
"""
import argparse
import json
import os
import re

import cv2
import numpy as np


def natural(name):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("split")
    ap.add_argument("out")
    ap.add_argument("--size", default="3840x2160", help="frame WxH")
    ap.add_argument("--grid", default="4x3", help="images per frame, columns x rows")
    ap.add_argument("--quality", type=int, default=90, help="JPEG quality")
    a = ap.parse_args()
    fw, fh = (int(v) for v in a.size.split("x"))
    gc, gr = (int(v) for v in a.grid.split("x"))
    cw, ch = fw // gc, fh // gr
    points = json.load(open(os.path.join(a.split, "points.json")))
    names = sorted(points, key=natural)
    os.makedirs(os.path.join(a.out, "images"), exist_ok=True)
    out_points = {}
    per = gc * gr
    for f in range(0, len(names), per):
        frame = np.full((fh, fw, 3), 128, np.uint8)
        pts = []
        for k, name in enumerate(names[f:f + per]):
            img = cv2.imread(os.path.join(a.split, "images", name), cv2.IMREAD_COLOR)
            h, w = img.shape[:2]
            s = min(cw / w, ch / h)
            nw, nh = max(1, round(w * s)), max(1, round(h * s))
            x0 = (k % gc) * cw + (cw - nw) // 2
            y0 = (k // gc) * ch + (ch - nh) // 2
            frame[y0:y0 + nh, x0:x0 + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
            for x, y in points[name]:
                pts.append([x0 + (x + 0.5) * nw / w - 0.5, y0 + (y + 0.5) * nh / h - 0.5])
        file = f"MOSAIC_{f // per + 1}.jpg"
        cv2.imwrite(os.path.join(a.out, "images", file), frame, [cv2.IMWRITE_JPEG_QUALITY, a.quality])
        out_points[file] = pts
        print(f"{file}: {len(names[f:f + per])} images, {len(pts)} heads")
    json.dump(out_points, open(os.path.join(a.out, "points.json"), "w"))


if __name__ == "__main__":
    main()
