"""Draws a camera's counting lines (protocol v1.4) on a picture, as the TypeScript
client does (client/display/line-overlay.ts): each polyline in white, scaled
from the LINES message's reference size, and across the middle of its longest
segment two arrows, cyan to the "in" side labelled with the people counted in,
magenta back labelled with those out. Same geometry, colours, font and
rounding, so the two clients' pictures match pixel for pixel
(test/python-client-lines.test.ts checks it).

Needs OpenCV's Python binding (python3-opencv) and numpy.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from crowdline_client import LineCrossings, LineSet

Point = Tuple[int, int]
Bgr = Tuple[int, int, int]

# BGR: the line white, "in" cyan, "out" magenta (apart from the zones' green, amber and red).
LINE_COLOURS: Dict[str, Bgr] = {"line": (255, 255, 255), "in": (255, 255, 0), "out": (255, 0, 255)}
# Sizes in pixels of a 768-pixel-wide picture, scaled with it.
HALF_LENGTH, APART, THICKNESS = 26, 24, 2
FONT = cv2.FONT_HERSHEY_SIMPLEX


def js_round(value: float) -> int:
    """JavaScript's Math.round (halves go up), so positions equal the TypeScript client's.
    Not floor(value + 0.5): that sum can itself round up (0.49999999999999994 + 0.5 == 1.0)."""
    whole = math.floor(value)
    return whole + 1 if value - whole >= 0.5 else whole


def scale_points(line_set: LineSet, sent: Tuple[int, int], points: Iterable[Tuple[float, float]],
                 width: int, height: int) -> List[Point]:
    """Points in the pixels of a width x height picture (§3.8: from the message's size, else the frame sent).
    Far-off points are pulled in so OpenCV's integer drawing never overflows (the visible part keeps its shape)."""
    ref_w = line_set.width if line_set.width is not None else sent[0]
    ref_h = line_set.height if line_set.height is not None else sent[1]
    sx, sy = width / ref_w, height / ref_h
    limit = 16 * max(width, height)

    def fit(v: float) -> int:
        return max(-limit, min(limit, js_round(v))) if math.isfinite(v) else 0

    return [(fit(x * sx), fit(y * sy)) for x, y in points]


def line_arrows(points: Sequence[Point], inside: str, scale: float) -> Optional[Dict[str, Tuple[Point, Point]]]:
    """Where a line's two arrows go: across the middle of its longest segment, side by side along it,
    each HALF_LENGTH to either side of the line; {"in": (tail, tip), "out": (tail, tip)}.
    None when every segment has length 0."""
    best, best_length = -1, 0.0
    for i in range(1, len(points)):
        length = math.hypot(points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1])
        if length > best_length:
            best, best_length = i, length
    if best < 0:
        return None
    (x0, y0), (x1, y1) = points[best - 1], points[best]
    dx, dy = (x1 - x0) / best_length, (y1 - y0) / best_length
    # On the image (y down) the right of the direction of travel is (-dy, dx) (docs/protocol.md §3.8).
    nx, ny = (-dy, dx) if inside == "right" else (dy, -dx)
    half = HALF_LENGTH * scale
    apart = min(APART * scale, best_length / 4)
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2

    def at(along: float, across: float) -> Point:
        return js_round(mx + dx * along + nx * across), js_round(my + dy * along + ny * across)

    return {"in": (at(apart, -half), at(apart, half)), "out": (at(-apart, half), at(-apart, -half))}


def arrow_strokes(tail: Point, tip: Point) -> List[Tuple[Point, Point]]:
    """The shaft and the two sides of the head (a third of the length, 30 degrees off)."""
    length = math.hypot(tip[0] - tail[0], tip[1] - tail[1])
    if length == 0:
        return []
    ux, uy = (tip[0] - tail[0]) / length, (tip[1] - tail[1]) / length
    head = length / 3
    c = math.cos(math.pi / 6)

    def side(sign: int) -> Point:
        s = sign * math.sin(math.pi / 6)
        return js_round(tip[0] - head * (ux * c - uy * s)), js_round(tip[1] - head * (uy * c + ux * s))

    return [(tail, tip), (tip, side(1)), (tip, side(-1))]


def crossing_count(value: float) -> str:
    """"12.3" under 100 people, "1234" above (JavaScript's toFixed: halves of the exact value go up)."""
    if value < 100:
        return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return str(js_round(value))


def draw_lines(image: np.ndarray, line_set: LineSet, crossings: Optional[Sequence[LineCrossings]],
               sent: Tuple[int, int]) -> None:
    """Draws every line of `line_set` on the BGR `image`, in place. `crossings`: the RESULT's line block
    (None: the frame was not answered ok, and the arrows carry no counts); `sent`: (width, height) of
    the frame sent to the server."""
    rows, cols = image.shape[:2]
    counts: Dict[int, LineCrossings] = {}
    for c in crossings or ():
        counts.setdefault(c.id, c)
    scale = cols / 768
    font_scale = max(0.35, min(0.8, 0.55 * scale))
    thickness = max(1, js_round(THICKNESS * scale))
    labels = []
    for line in line_set.lines:
        points = scale_points(line_set, sent, line.points, cols, rows)
        # LINE_8, not anti-aliased: the line and arrows keep their exact colours (as the zones do).
        cv2.polylines(image, [np.array(points, np.int32).reshape(-1, 1, 2)], False, LINE_COLOURS["line"],
                      thickness, cv2.LINE_8)
        arrows = line_arrows(points, line.inside, scale)
        count = counts.get(line.id)
        if arrows:
            for direction in ("in", "out"):
                tail, tip = arrows[direction]
                for a, b in arrow_strokes(tail, tip):
                    cv2.line(image, a, b, LINE_COLOURS[direction], thickness, cv2.LINE_8)
                people = None if count is None else (count.people_in if direction == "in" else count.people_out)
                text = direction if people is None else f"{direction} {crossing_count(people)}"
                # The count sits beyond the arrow's tip, so the head stays visible.
                labels.append((text, tip, LINE_COLOURS[direction], (tip[0] - tail[0], tip[1] - tail[1])))
        labels.append((line.name, points[0], LINE_COLOURS["line"], None))
    for text, at, colour, away in labels:
        draw_label(image, text, at, colour, font_scale, away)


def draw_label(image: np.ndarray, text: str, at: Point, colour: Bgr, font_scale: float,
               away: Optional[Point] = None) -> None:
    """Text on a dark band centred on `at` (or just beyond it in the direction `away`), kept inside the picture."""
    rows, cols = image.shape[:2]
    (text_w, text_h), base_line = cv2.getTextSize(text, FONT, font_scale, 1)
    w = min(cols, text_w + 6)
    h = min(rows, text_h + base_line + 6)
    cx, cy = float(at[0]), float(at[1])
    length = math.hypot(away[0], away[1]) if away else 0.0
    if away and length > 0:
        ux, uy = away[0] / length, away[1] / length
        gap = abs(ux) * w / 2 + abs(uy) * h / 2 + 2
        cx += ux * gap
        cy += uy * gap
    x = max(0, min(cols - w, js_round(cx - w / 2)))
    y = max(0, min(rows - h, js_round(cy - h / 2)))
    band = image[y:y + h, x:x + w]
    band[:] = cv2.convertScaleAbs(band, alpha=0.35)
    cv2.putText(image, text, (x + 3, y + 3 + text_h), FONT, font_scale, colour, 1, cv2.LINE_AA)
