#!/usr/bin/python3
"""Predicted against true count, as an SVG scatter plot, from `crowdline eval --csv` files.

    /usr/bin/python3 models/plot_counts.py --out models/sha-test-counts.svg \\
        "crowdline-v2, fixed=/tmp/v2-fixed.csv" "crowdline-v2, tiled=/tmp/v2-tiled.csv"

Each argument is LABEL=CSV (columns file,truth,predicted,error). Plain SVG, no
plotting library: a square plot with equal axes, the y = x line, one colour per
series, and each series' MAE in the legend.
"""
import argparse
import csv
import math

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
SIZE, PAD = 560, 64


def read(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return [(float(r["truth"]), float(r["predicted"])) for r in rows]


def nice_step(top):
    raw = top / 6
    p = 10 ** math.floor(math.log10(raw))
    return next(m * p for m in (1, 2, 2.5, 5, 10) if m * p >= raw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("series", nargs="+", help="LABEL=CSV")
    ap.add_argument("--out", required=True)
    ap.add_argument("--title", default="ShanghaiTech A test: predicted vs true count")
    a = ap.parse_args()
    series = []
    for s in a.series:
        label, _, path = s.rpartition("=")
        series.append((label or path, read(path)))
    top = max(max(max(t, p) for t, p in pts) for _, pts in series) * 1.05
    step = nice_step(top)
    top = math.ceil(top / step) * step
    w = h = SIZE
    x = lambda v: PAD + v / top * (w - 2 * PAD)          # noqa: E731
    y = lambda v: h - PAD - v / top * (h - 2 * PAD)      # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 22 * len(series)}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="14">{a.title}</text>']
    v = 0.0
    while v <= top + 1e-9:
        out.append(f'<line x1="{x(v):.1f}" y1="{y(0):.1f}" x2="{x(v):.1f}" y2="{y(top):.1f}" stroke="#eee"/>')
        out.append(f'<line x1="{x(0):.1f}" y1="{y(v):.1f}" x2="{x(top):.1f}" y2="{y(v):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{x(v):.1f}" y="{y(0) + 16:.1f}" text-anchor="middle">{v:g}</text>')
        out.append(f'<text x="{x(0) - 6:.1f}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
        v += step
    out.append(f'<rect x="{x(0)}" y="{y(top)}" width="{x(top) - x(0)}" height="{y(0) - y(top)}" fill="none" stroke="#444"/>')
    out.append(f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(top)}" y2="{y(top)}" stroke="#888" stroke-dasharray="5,4"/>')
    out.append(f'<text x="{w / 2}" y="{h - 18}" text-anchor="middle">true count (annotated heads)</text>')
    out.append(f'<text transform="translate(16 {h / 2}) rotate(-90)" text-anchor="middle">predicted count</text>')
    for i, (label, pts) in enumerate(series):
        c = COLOURS[i % len(COLOURS)]
        for t, p in pts:
            out.append(f'<circle cx="{x(t):.1f}" cy="{y(p):.1f}" r="2.6" fill="{c}" fill-opacity="0.6"/>')
        mae = sum(abs(p - t) for t, p in pts) / len(pts)
        rmse = math.sqrt(sum((p - t) ** 2 for t, p in pts) / len(pts))
        ly = h + 22 * i + 4
        out.append(f'<circle cx="{PAD + 6}" cy="{ly}" r="5" fill="{c}"/>')
        out.append(f'<text x="{PAD + 18}" y="{ly + 4}">{label}: MAE {mae:.1f}, RMSE {rmse:.1f} ({len(pts)} images)</text>')
    out.append("</svg>")
    with open(a.out, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
