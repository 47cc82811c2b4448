"""Counts on a dataset split through a running `crowdline serve`, as an old camera client gets them.

Each image file is sent as is over the legacy protocol (docs/protocol.md section 6),
one frame at a time, and the returned density map is summed. Issue 33's targets
hold "through crowdline serve with its default settings": start the server with
nothing but the model, then

    node dist/cli/main.js serve --model crowdline-v2 --port 7997 &
    /usr/bin/python3 models/serve_eval.py ../shared/datasets/shanghaitech-a/test --port 7997

Images are taken in `crowdline eval`'s order (file names sorted, digit runs as
numbers), so --skip and --limit pick the same ones.
"""
import argparse
import json
import math
import os
import re
import socket

import numpy as np


def natural_key(name: str) -> list:
    """crowdline eval's order: digit runs compare as numbers (IMG_2 before IMG_10)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part]


def read_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise SystemExit("the server closed the connection")
        buf += chunk
    return bytes(buf)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("split", help="folder with images/ and points.json")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=7878)
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--limit", type=int)
    a = ap.parse_args()
    with open(os.path.join(a.split, "points.json")) as f:
        points = json.load(f)
    names = sorted(points, key=natural_key)[a.skip:]
    if a.limit is not None:
        names = names[: a.limit]
    errors = []
    failed = []
    with socket.create_connection((a.host, a.port)) as sock:
        for name in names:
            with open(os.path.join(a.split, "images", name), "rb") as f:
                jpeg = f.read()
            sock.sendall(str(len(jpeg)).ljust(16).encode() + jpeg)
            size, _height, _width = (int(read_exactly(sock, 16).decode().strip()) for _ in range(3))
            if size == 0:
                # The legacy protocol's only way to say a frame failed: an empty map. Not a count of 0.
                failed.append(name)
                continue
            count = float(np.frombuffer(read_exactly(sock, size), dtype="<f4").sum(dtype=np.float64))
            errors.append(count - len(points[name]))
    if failed:
        print(f"{len(failed)} frames answered with an empty map (failed, left out): {' '.join(failed)}")
    if not errors:
        raise SystemExit("no frame was answered with a density map")
    e = np.array(errors)
    print(f"{len(e)} images from {a.split}")
    print(f"MAE {np.abs(e).mean():.2f}  RMSE {math.sqrt((e ** 2).mean()):.2f}  bias {e.mean():+.2f}")


if __name__ == "__main__":
    main()
