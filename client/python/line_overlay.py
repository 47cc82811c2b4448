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
    labels = []  # (text, at, colour, away, slide)
    for line in line_set.lines:
        points = scale_points(line_set, sent, line.points, cols, rows)
        # LINE_8, not anti-aliased: the line and arrows keep their exact colours (as the zones do).
        cv2.polylines(image, [np.array(points, np.int32).reshape(-1, 1, 2)], False, LINE_COLOURS["line"],
                      thickness, cv2.LINE_8)
        arrows = line_arrows(points, line.inside, scale)
        count = counts.get(line.id)
        if arrows:
            # Along the line, from the "out" arrow to the "in" one: where each label may slide to clear another.
            (in_tail, in_tip), (out_tail, out_tip) = arrows["in"], arrows["out"]
            along = unit(((in_tail[0] + in_tip[0] - out_tail[0] - out_tip[0]) / 2,
                          (in_tail[1] + in_tip[1] - out_tail[1] - out_tip[1]) / 2))
            for direction in ("in", "out"):
                tail, tip = arrows[direction]
                for a, b in arrow_strokes(tail, tip):
                    cv2.line(image, a, b, LINE_COLOURS[direction], thickness, cv2.LINE_8)
                people = None if count is None else (count.people_in if direction == "in" else count.people_out)
                text = direction if people is None else f"{direction} {crossing_count(people)}"
                slide = along if along is None or direction == "in" else (-along[0], -along[1])
                # The count sits beyond the arrow's tip, so the head stays visible.
                labels.append((text, tip, LINE_COLOURS[direction], (tip[0] - tail[0], tip[1] - tail[1]), slide))
        first = unit((points[1][0] - points[0][0], points[1][1] - points[0][1]))
        labels.append((line.name, points[0], LINE_COLOURS["line"], None, first))
    placed: List[Box] = []
    for text, at, colour, away, slide in labels:
        (text_w, text_h), base_line = cv2.getTextSize(text, FONT, font_scale, 1)
        x, y, w, h = place_label(label_box(text_w, text_h + base_line, at, away, cols, rows), slide, placed, cols, rows)
        placed.append((x, y, w, h))
        band = image[y:y + h, x:x + w]
        band[:] = cv2.convertScaleAbs(band, alpha=0.35)
        cv2.putText(image, text, (x + 3, y + 3 + text_h), FONT, font_scale, colour, 1, cv2.LINE_AA)


Box = Tuple[int, int, int, int]  # a label's dark band: x, y, width, height
MAX_SLIDE_STEPS = 12  # most half-height steps a label slides to clear those drawn before it


def unit(v: Tuple[float, float]) -> Optional[Tuple[float, float]]:
    length = math.sqrt(v[0] * v[0] + v[1] * v[1])
    return (v[0] / length, v[1] / length) if length > 0 else None


def label_box(text_w: int, text_h: int, at: Point, away: Optional[Point], cols: int, rows: int) -> Box:
    """The band for text text_w x text_h (3 px margins) centred on `at` (or just beyond it in the direction
    `away`), kept inside the picture."""
    w = min(cols, text_w + 6)
    h = min(rows, text_h + 6)
    cx, cy = float(at[0]), float(at[1])
    length = math.hypot(away[0], away[1]) if away else 0.0
    if away and length > 0:
        ux, uy = away[0] / length, away[1] / length
        gap = abs(ux) * w / 2 + abs(uy) * h / 2 + 2
        cx += ux * gap
        cy += uy * gap
    return max(0, min(cols - w, js_round(cx - w / 2))), max(0, min(rows - h, js_round(cy - h / 2))), w, h


def place_label(box: Box, slide: Optional[Tuple[float, float]], placed: Sequence[Box], cols: int, rows: int) -> Box:
    """Where a label goes so it covers none of `placed`: where it wants to be, or moved along `slide` by half
    its height at a time (at most MAX_SLIDE_STEPS), inside the picture; if nothing is clear, where it wanted."""
    def clear(b: Box) -> bool:
        return not any(b[0] < p[0] + p[2] and p[0] < b[0] + b[2] and b[1] < p[1] + p[3] and p[1] < b[1] + b[3]
                       for p in placed)

    if clear(box) or slide is None:
        return box
    x, y, w, h = box
    step = max(2, js_round(h / 2))
    for k in range(1, MAX_SLIDE_STEPS + 1):
        moved = (max(0, min(cols - w, js_round(x + slide[0] * step * k))),
                 max(0, min(rows - h, js_round(y + slide[1] * step * k))), w, h)
        if clear(moved):
            return moved
    return box
