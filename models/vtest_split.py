#!/usr/bin/python3
"""Write the 8 hand-counted vtest.avi frames as a split `crowdline eval` reads, so the
sample-video check runs through the server's own decode and resize like the others.

The frames are JPEG quality 85 (what the camera client sends); points.json holds one
placeholder point per hand-counted person (eval compares counts, not positions).

  /usr/bin/python3 models/vtest_split.py /tmp/vtest-split
  node dist/cli/main.js eval /tmp/vtest-split --model crowdline-v2 --device cpu
"""
import json
import os
import sys

import cv2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from eval import VTEST_HAND  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "vtest-split"
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    frames = data.vtest_frames(list(VTEST_HAND))
    points = {}
    for i, n in VTEST_HAND.items():
        name = f"frame{i:03d}.jpg"
        cv2.imwrite(os.path.join(out, "images", name), frames[i], [cv2.IMWRITE_JPEG_QUALITY, 85])
        points[name] = [[0.0, 0.0]] * n
    with open(os.path.join(out, "points.json"), "w") as f:
        json.dump(points, f)
    print(f"wrote {len(points)} frames to {out}")


if __name__ == "__main__":
    main()
