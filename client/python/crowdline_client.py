#!/usr/bin/env python3
"""crowdline protocol v1 client, written from docs/protocol.md alone.

Standard library (socket, ssl, struct) plus numpy for density maps; OpenCV's
Python binding (Debian: python3-opencv) only to read cameras or videos and
encode JPEGs. Made for the Raspberry Pi, where building OpenCV for Node takes
hours.

    from crowdline_client import Camera
    cam = Camera("gpu-box", 7878, "gate-1", token=open("token").read().strip(),
                 tls=True, ca="ca.pem", density="f16", window=4)
    for index, result in cam.run(jpeg_frames):   # pipelined, reconnects
        print(index, result.count)

Command line: ``python3 crowdline_client.py --help``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import socket
import ssl
import struct
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, Iterable, Iterator, List, Optional, Tuple

import numpy as np

# §2 header: type, flags, reserved, body length.
HEADER = struct.Struct("<BBHI")
HELLO, WELCOME, FRAME, RESULT, ERROR, BYE, ZONES, LINES = 1, 2, 3, 4, 5, 6, 7, 8
MAGIC = b"CRWD"
VERSION = 1
HELLO_FIXED = struct.Struct("<HBBHB")          # §3.1 after the magic: version, format, flags, window, name length
WELCOME_FIXED = struct.Struct("<HBBHIHHBB")    # §3.2
FRAME_FIXED = struct.Struct("<Id")             # §3.3 seq, captureTime
RESULT_FIXED = struct.Struct("<IBBHdfIIIIHHf")  # §3.4
FLAG_COUNT_ONLY, FLAG_EXTENSIONS = 0x01, 0x02
EXT_TOKEN, EXT_LINES = 0x01, 0x04               # §3.1.1 (lines: v1.4)
RESULT_ZONES, RESULT_LINES = 0x01, 0x02         # §3.4 RESULT flags: a zone block (v1.2), a line block (v1.4)
ZONE_BLOCK_HEAD, ZONE_ENTRY = 4, 16             # §3.4.2
LINE_BLOCK_HEAD = struct.Struct("<HH")          # §3.4.3 lineCount, reserved
LINE_ENTRY = struct.Struct("<HHIffdd")          # id, reserved, intervalMs, intervalIn, intervalOut, in, out
FORMATS = {"f32": 0, "f16": 1, "u8": 2, "none": 255}
STATUS_NAMES = {0: "ok", 1: "frame-error", 2: "dropped", 3: "server-error"}
ERROR_NAMES = {1: "BadMagic", 2: "UnsupportedVersion", 3: "FrameTooLarge", 4: "MalformedMessage",
               5: "HandshakeTimeout", 6: "IdleTimeout", 7: "ShuttingDown", 8: "ServerFull",
               9: "SequenceOrder", 10: "UnexpectedMessage", 11: "Unauthorized", 12: "TlsRequired"}
# §5: reconnecting cannot help after these (client bugs, a wrong token, TLS needed).
PERMANENT_ERRORS = {1, 2, 3, 4, 9, 10, 11, 12}
MAX_CONTROL_BODY = 4096
MAX_RESULT_BODY = 64 * 1024 * 1024
MAX_SHAPES_BODY = 65536                         # §2.3 ZONES and LINES bodies
MAX_LINES, MAX_LINE_POINTS = 256, 256           # §3.8
# §2.3: the body sizes each message type may have, checked before its body is read.
BODY_LIMITS = {WELCOME: (18, MAX_CONTROL_BODY), ERROR: (2, MAX_CONTROL_BODY), RESULT: (RESULT_FIXED.size, MAX_RESULT_BODY),
               ZONES: (2, MAX_SHAPES_BODY), LINES: (2, MAX_SHAPES_BODY)}


class ProtocolError(Exception):
    """The server broke docs/protocol.md (or the stream ended mid-message)."""


class ServerError(Exception):
    """The server sent ERROR (§3.5); it closes the connection after it."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"server error {code} ({ERROR_NAMES.get(code, '?')}): {reason}")
        self.code = code
        self.reason = reason

    @property
    def permanent(self) -> bool:
        return self.code in PERMANENT_ERRORS


@dataclass
class Welcome:
    version: int
    density_format: int
    count_only: bool
    window: int
    max_frame_bytes: int
    input_width: int
    input_height: int
    output_stride: int
    model: str
    provider: str


@dataclass(frozen=True)
class Line:
    """One counting line of a LINES message (§3.8), in the coordinates of `LineSet.width x height`."""
    id: int
    name: str
    points: Tuple[Tuple[float, float], ...]
    inside: str                      # "left" or "right": the side whose crossings count as "in"
    band_px: Optional[float] = None


@dataclass(frozen=True)
class LineSet:
    """A LINES message (§3.8): a camera's lines; width/height: the size the points refer to (None: the frame sent)."""
    camera: str
    lines: Tuple[Line, ...]
    width: Optional[float] = None
    height: Optional[float] = None


@dataclass(frozen=True)
class LineCrossings:
    """One entry of a RESULT's line block (§3.4.3): people in and out since the server started, and in the last interval."""
    id: int
    people_in: float
    people_out: float
    interval_ms: int
    interval_in: float
    interval_out: float


@dataclass
class Result:
    seq: int
    status: str
    capture_ms: float
    count: float
    queue_us: int
    decode_us: int
    infer_us: int
    server_us: int
    density_format: int
    density: Optional[np.ndarray] = None  # float32, shape (height, width)
    reason: str = ""
    lines: Optional[List[LineCrossings]] = None  # v1.4 line block (ok RESULTs, when lines were asked for)
    line_set: Optional[LineSet] = None           # the LINES message in force when this RESULT came

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _finite(value: object) -> Optional[float]:
    """A JSON number as a finite float, else None (true/false are not numbers; 1e999 is not finite)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def decode_lines_body(body: bytes) -> LineSet:
    """§3.8: the LINES JSON, every field checked and bounded; anything else is a ProtocolError."""
    def fail(problem: str) -> ProtocolError:
        return ProtocolError(f"LINES {problem} (v1.4 §3.8)")

    def no_constants(name: str) -> None:
        raise fail(f"body holds {name}, which is not a JSON number")

    try:
        root = json.loads(body.decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise fail(f"body is not JSON ({type(err).__name__})") from None
    if not isinstance(root, dict):
        raise fail("body must be an object")
    camera = root.get("camera")
    if not isinstance(camera, str):
        raise fail('"camera" must be a string')
    items = root.get("lines")
    if not isinstance(items, list) or len(items) > MAX_LINES:
        raise fail(f'"lines" must be a list of at most {MAX_LINES}')
    width = height = None
    if "width" in root or "height" in root:
        width, height = _finite(root.get("width")), _finite(root.get("height"))
        if width is None or height is None or width <= 0 or height <= 0:
            raise fail('"width" and "height" must both be positive numbers')
    lines = []
    for index, item in enumerate(items):
        what = f"line {index}"
        if not isinstance(item, dict):
            raise fail(f"{what} must be an object")
        if not isinstance(item.get("id"), int) or isinstance(item.get("id"), bool) or item.get("id") != index:
            raise fail(f'{what} must have "id" {index}')
        name = item.get("name")
        if not isinstance(name, str):
            raise fail(f'{what} "name" must be a string')
        raw = item.get("points")
        if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_LINE_POINTS:
            raise fail(f'{what} "points" must be a list of 2-{MAX_LINE_POINTS} points')
        points = []
        for point in raw:
            xy = [_finite(v) for v in point] if isinstance(point, list) and len(point) == 2 else [None]
            if None in xy:
                raise fail(f"{what} has a point that is not [x, y] of finite numbers")
            points.append((xy[0], xy[1]))
        inside = item.get("in")
        if inside not in ("left", "right"):
            raise fail(f'{what} "in" must be "left" or "right"')
        band = None
        if "band_px" in item:
            band = _finite(item["band_px"])
            if band is None or band <= 0:
                raise fail(f'{what} "band_px" must be a positive number')
        lines.append(Line(index, name, tuple(points), inside, band))
    return LineSet(camera, tuple(lines), width, height)


def decode_line_block(body: bytes, at: int) -> Tuple[List[LineCrossings], int]:
    """§3.4.3: the line block at `at`; returns the entries and the offset after it."""
    if len(body) < at + LINE_BLOCK_HEAD.size:
        raise ProtocolError("RESULT line block is cut short (v1.4 §3.4.3)")
    count, _reserved = LINE_BLOCK_HEAD.unpack_from(body, at)
    at += LINE_BLOCK_HEAD.size
    if count > MAX_LINES:  # one entry per line of LINES, which holds at most MAX_LINES
        raise ProtocolError(f"RESULT line block of {count} lines, over the {MAX_LINES} a LINES message may hold (v1.4 §3.4.3)")
    if at + count * LINE_ENTRY.size > len(body):
        raise ProtocolError(f"RESULT line block of {count} lines runs past the end (v1.4 §3.4.3)")
    entries = []
    for _ in range(count):
        line_id, _r, interval_ms, interval_in, interval_out, people_in, people_out = LINE_ENTRY.unpack_from(body, at)
        at += LINE_ENTRY.size
        # People: never negative, NaN or infinite (§3.4.3 makes anything else a protocol error).
        if not all(math.isfinite(v) and v >= 0 for v in (interval_in, interval_out, people_in, people_out)):
            raise ProtocolError(f"RESULT line {line_id} carries a count that is not a finite number >= 0 (v1.4 §3.4.3)")
        entries.append(LineCrossings(line_id, people_in, people_out, interval_ms, interval_in, interval_out))
    return entries, at


def skip_zone_block(body: bytes, at: int) -> int:
    """§3.4.2: this client asks for no zones, but a block the flags announce must be stepped over, checked."""
    if len(body) < at + ZONE_BLOCK_HEAD:
        raise ProtocolError("RESULT zone block is cut short (v1.2 §3.4.2)")
    (count,) = struct.unpack_from("<H", body, at)
    end = at + ZONE_BLOCK_HEAD + count * ZONE_ENTRY
    if end > len(body):
        raise ProtocolError(f"RESULT zone block of {count} zones runs past the end (v1.2 §3.4.2)")
    return end


def decode_density(payload: bytes, fmt: int, height: int, width: int, scale: float) -> Optional[np.ndarray]:
    """§3.4.1: f32, f16, u8-scaled (byte * scale), or none."""
    if fmt == 255:
        return None
    dtype = {0: "<f4", 1: "<f2", 2: "u1"}.get(fmt)
    if dtype is None:
        raise ProtocolError(f"unknown density format {fmt}")
    values = np.frombuffer(payload, dtype=dtype)
    if values.size != height * width:
        raise ProtocolError(f"density payload of {len(payload)} bytes does not match {height}x{width}")
    values = values.astype(np.float32)
    if fmt == 2:
        values *= np.float32(scale)
    return values.reshape(height, width)


def encode_hello(camera: str, density: int, count_only: bool, window: int, token: Optional[str],
                 lines: bool = False) -> bytes:
    name = camera.encode("utf-8")[:255]
    ext = b""
    if token is not None:
        raw = token.encode("utf-8")
        if not 0 < len(raw) <= 255:
            raise ValueError("a token must be 1-255 bytes")
        ext = bytes([EXT_TOKEN, len(raw)]) + raw
    if lines:
        # v1.4: an older server skips the tag (§3.1.1) and just sends no LINES and no line blocks.
        ext += bytes([EXT_LINES, 0])
    flags = (FLAG_COUNT_ONLY if count_only else 0) | (FLAG_EXTENSIONS if ext else 0)
    body = MAGIC + HELLO_FIXED.pack(VERSION, density, flags, window, len(name)) + name + ext
    return HEADER.pack(HELLO, 0, 0, len(body)) + body


class Connection:
    """One v1 connection: HELLO/WELCOME, then FRAMEs out and RESULTs back in order (§4)."""

    def __init__(self, host: str, port: int, camera: str, *, token: Optional[str] = None, tls: bool = False,
                 ca: Optional[str] = None, cert: Optional[str] = None, key: Optional[str] = None,
                 density: str = "f16", window: int = 0, timeout: float = 10.0, lines: bool = False):
        self.host, self.port = host, port
        self.wants_lines = lines
        self.lines: Optional[LineSet] = None  # the latest LINES message (v1.4); None until one comes
        fmt = FORMATS[density]
        raw = socket.create_connection((host, port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            ctx = ssl.create_default_context(cafile=ca)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            if cert:
                ctx.load_cert_chain(cert, key)
            self.sock = ctx.wrap_socket(raw, server_hostname=host)
        else:
            self.sock = raw
        self.next_seq = 0
        self.pending: Deque[int] = deque()  # seqs sent, not yet answered
        try:
            self.sock.sendall(encode_hello(camera, fmt, fmt == 255, window, token, lines))
            kind, body = self._read_message()
            if kind == ERROR:
                raise self._error(body)
            if kind != WELCOME:
                raise ProtocolError(f"expected WELCOME, got message type {kind}")
            self.welcome = self._welcome(body)
        except BaseException:
            self.close()
            raise
        self.sock.settimeout(None)

    # -- sending -------------------------------------------------------------
    def send_frame(self, jpeg: bytes, capture_ms: Optional[float] = None) -> int:
        if not 0 < len(jpeg) <= self.welcome.max_frame_bytes:
            raise ValueError(f"JPEG of {len(jpeg)} bytes; the server takes 1-{self.welcome.max_frame_bytes}")
        seq = self.next_seq
        self.next_seq += 1
        head = FRAME_FIXED.pack(seq, time.time() * 1000 if capture_ms is None else capture_ms)
        self.sock.sendall(HEADER.pack(FRAME, 0, 0, len(head) + len(jpeg)) + head + jpeg)
        self.pending.append(seq)
        return seq

    def bye(self) -> None:
        """§3.6: no more frames; RESULTs for those in flight still come."""
        self.sock.sendall(HEADER.pack(BYE, 0, 0, 0))

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- receiving -----------------------------------------------------------
    def read_result(self) -> Result:
        """The next RESULT, in FRAME order (a LINES message before it is taken in on the way).
        Raises ServerError on ERROR, ConnectionError on a close, ProtocolError on bytes that break the protocol."""
        while True:
            kind, body = self._read_message()
            if kind != LINES:
                break
            if not self.wants_lines:
                raise ProtocolError("LINES sent to a client that did not ask for lines (v1.4 §3.8)")
            self.lines = decode_lines_body(body)
        if kind == ERROR:
            raise self._error(body)
        if kind != RESULT:
            raise ProtocolError(f"expected RESULT, got message type {kind}")
        (seq, status, fmt, flags, capture, count, q, d, i, s, height, width, scale) = RESULT_FIXED.unpack_from(body)
        expected = self.pending.popleft() if self.pending else None
        if seq != expected:
            raise ProtocolError(f"RESULT for seq {seq}, expected {expected} (§4.1: in order)")
        at = RESULT_FIXED.size
        if flags & RESULT_ZONES:
            at = skip_zone_block(body, at)
        crossings = None
        if flags & RESULT_LINES:
            crossings, at = decode_line_block(body, at)
        payload = body[at:]
        result = Result(seq, STATUS_NAMES.get(status, str(status)), capture, count, q, d, i, s, fmt,
                        lines=crossings, line_set=self.lines)
        if status == 0 and fmt != 255:
            result.density = decode_density(payload, fmt, height, width, scale)
        elif payload:
            result.reason = payload.decode("utf-8", "replace")
        return result

    def _read_exact(self, n: int) -> bytes:
        chunks: List[bytes] = []
        while n > 0:
            chunk = self.sock.recv(min(n, 1 << 20))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _read_message(self) -> Tuple[int, bytes]:
        kind, flags, reserved, length = HEADER.unpack(self._read_exact(HEADER.size))
        if flags or reserved:
            raise ProtocolError("header flags/reserved not zero (§2.2)")
        if kind not in BODY_LIMITS:
            raise ProtocolError(f"message type {kind} is not one a server sends this client (§2.1)")
        low, high = BODY_LIMITS[kind]
        if not low <= length <= high:
            raise ProtocolError(f"message type {kind} of {length} bytes is outside {low}-{high} (§2.3)")
        return kind, self._read_exact(length)

    @staticmethod
    def _error(body: bytes) -> ServerError:
        (code,) = struct.unpack_from("<H", body)
        return ServerError(code, body[2:].decode("utf-8", "replace"))

    @staticmethod
    def _welcome(body: bytes) -> Welcome:
        v, fmt, flags, window, max_bytes, w, h, stride, _r = WELCOME_FIXED.unpack_from(body)
        at = WELCOME_FIXED.size
        names = []
        for what in ("model name", "provider"):
            if at >= len(body) or at + 1 + body[at] > len(body):
                raise ProtocolError(f"WELCOME {what} runs past the end of the message (§3.2)")
            names.append(body[at + 1: at + 1 + body[at]].decode("utf-8", "replace"))
            at += 1 + body[at]
        model, provider = names
        return Welcome(v, fmt, bool(flags & FLAG_COUNT_ONLY), window, max_bytes, w, h, stride, model, provider)


@dataclass
class Camera:
    """Pipelined sender with reconnection: keeps up to the granted window in flight and
    sends again, after reconnecting with backoff, the frames a lost connection took."""

    host: str
    port: int
    name: str
    token: Optional[str] = None
    tls: bool = False
    ca: Optional[str] = None
    cert: Optional[str] = None
    key: Optional[str] = None
    density: str = "f16"
    window: int = 4
    max_retry_s: float = 5.0
    max_attempts: int = 10
    lines: bool = True  # v1.4: ask for the camera's counting lines (older servers ignore the request)
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))

    def connect(self) -> Connection:
        delay, attempt = 0.25, 0
        while True:
            try:
                return Connection(self.host, self.port, self.name, token=self.token, tls=self.tls, ca=self.ca,
                                  cert=self.cert, key=self.key, density=self.density, window=self.window,
                                  lines=self.lines)
            except ServerError as err:
                if err.permanent:
                    raise
                problem = str(err)
            except ssl.SSLCertVerificationError:
                raise  # the wrong CA stays wrong
            except OSError as err:
                problem = str(err)
            attempt += 1
            if attempt >= self.max_attempts:
                raise ConnectionError(f"gave up after {attempt} attempts: {problem}")
            self.log(f"{self.name}: {problem}; retrying in {delay:.2f} s")
            time.sleep(delay)
            delay = min(self.max_retry_s, delay * 2)

    def run(self, frames: Iterable[bytes]) -> Iterator[Tuple[int, Result]]:
        """Yields (frame index, Result) for every frame, in order."""
        source = enumerate(frames)
        in_flight: Deque[Tuple[int, bytes]] = deque()
        resend: Deque[Tuple[int, bytes]] = deque()
        exhausted = False
        conn = self.connect()
        window = max(1, conn.welcome.window)
        try:
            while True:
                try:
                    while len(in_flight) < window and (resend or not exhausted):
                        if resend:
                            item = resend.popleft()
                        else:
                            item = next(source, None)
                            if item is None:
                                exhausted = True
                                break
                        in_flight.append(item)  # first: a send that fails midway must leave it to be sent again
                        conn.send_frame(item[1])
                    if not in_flight:
                        conn.bye()
                        return
                    result = conn.read_result()
                    index, _ = in_flight.popleft()
                    yield index, result
                except ServerError as err:
                    if err.permanent:
                        raise
                    self._lost(conn, in_flight, resend, str(err))
                    conn = self.connect()
                    window = max(1, conn.welcome.window)
                except OSError as err:
                    self._lost(conn, in_flight, resend, str(err))
                    conn = self.connect()
                    window = max(1, conn.welcome.window)
        finally:
            conn.close()

    def _lost(self, conn: Connection, in_flight: Deque, resend: Deque, why: str) -> None:
        conn.close()
        self.log(f"{self.name}: connection lost ({why}); {len(in_flight)} frame(s) will be sent again")
        resend.extendleft(reversed(in_flight))
        in_flight.clear()


def paced(frames: Iterable[bytes], fps: float) -> Iterator[bytes]:
    """Yields frames no faster than fps (a camera's own rate)."""
    next_at = time.monotonic()
    for frame in frames:
        if fps > 0:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += 1.0 / fps
        yield frame


def frames_from(args: argparse.Namespace, images: bool = False,
                on_source_fps: Optional[Callable[[float], None]] = None) -> Iterator[Tuple[bytes, Optional[np.ndarray]]]:
    """(JPEG bytes, picture) from --image (sent --frames times) or a video/camera via OpenCV.
    The picture (BGR, as encoded) only when `images` is asked for: it is drawn on and recorded.
    `on_source_fps` learns the video's own frame rate, when OpenCV knows it."""
    if args.image:
        with open(args.image, "rb") as f:
            jpeg = f.read()
        image = None
        if images:
            import cv2
            image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                raise SystemExit(f"{args.image} is not a JPEG OpenCV can read")
        for _ in range(args.frames):
            yield jpeg, image
        return
    import cv2  # Debian: apt-get install python3-opencv
    source = int(args.video) if args.video.isdigit() else args.video
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise SystemExit(f"cannot open {args.video}")
    source_fps = capture.get(cv2.CAP_PROP_FPS)
    if on_source_fps and source_fps and source_fps > 0:
        on_source_fps(source_fps)
    sent = 0
    while args.frames <= 0 or sent < args.frames:
        ok, image = capture.read()
        if not ok:
            break
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, args.quality])
        if ok:
            sent += 1
            yield encoded.tobytes(), image if images else None
    capture.release()


def line_report(result: Result) -> List[dict]:
    """The RESULT's line block for the JSON output, each line named from the LINES message in force."""
    names = {line.id: line.name for line in result.line_set.lines} if result.line_set else {}
    return [{"id": c.id, "name": names.get(c.id), "in": c.people_in, "out": c.people_out,
             "net": c.people_in - c.people_out, "intervalMs": c.interval_ms, "intervalIn": c.interval_in,
             "intervalOut": c.interval_out} for c in result.lines or ()]


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description="Stream JPEG frames to a crowdline server (protocol v1) and print one JSON line per result.")
    p.add_argument("--server", default="127.0.0.1:7878", help="HOST:PORT")
    p.add_argument("--camera", default="pi-camera", help="camera name sent in HELLO")
    p.add_argument("--token-file", help="file with the token from `crowdline auth add` (or set CROWDLINE_TOKEN)")
    p.add_argument("--tls", action="store_true", help="connect with TLS")
    p.add_argument("--ca", help="PEM CA that signed the server certificate")
    p.add_argument("--cert", help="client certificate (mutual TLS)")
    p.add_argument("--key", help="its private key")
    p.add_argument("--density", choices=sorted(FORMATS), default="f16")
    p.add_argument("--window", type=int, default=4, help="frames in flight asked for")
    p.add_argument("--no-lines", action="store_true", help="do not ask the server for the camera's counting lines (v1.4)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--image", help="a JPEG file, sent --frames times")
    src.add_argument("--video", help="video file or camera index (OpenCV)")
    p.add_argument("--frames", type=int, default=10, help="frames to send (0 with --video: all)")
    p.add_argument("--quality", type=int, default=80, help="JPEG quality for --video")
    p.add_argument("--fps", type=float, default=0, help="send at most this many frames per second (0: as fast as answered)")
    p.add_argument("--record", metavar="FILE.avi", help="record the answered frames, counting lines drawn, as Motion-JPEG AVI")
    p.add_argument("--snapshot", metavar="FILE.png", help="at the end, save the last answered frame, lines drawn")
    p.add_argument("--show", action="store_true", help="show the answered frames, lines drawn, in a window (q or Esc stops)")
    args = p.parse_args(argv)
    host, _, port = args.server.rpartition(":")
    token = open(args.token_file).read().strip() if args.token_file else os.environ.get("CROWDLINE_TOKEN") or None
    camera = Camera(host, int(port), args.camera, token=token, tls=args.tls, ca=args.ca, cert=args.cert,
                    key=args.key, density=args.density, window=args.window, lines=not args.no_lines)
    drawing = bool(args.record or args.snapshot or args.show)
    pictures = None
    if drawing:
        from pictures import Pictures  # OpenCV only when drawing
        # A recording plays at --fps, else at the video's own rate, else 10 fps.
        pictures = Pictures(args.camera, record=args.record, snapshot=args.snapshot, show=args.show,
                            fps=args.fps or 10.0)
    # Pictures of the frames in flight, by index, until their RESULT comes: at most the window plus one.
    waiting: Deque[Tuple[int, np.ndarray]] = deque()

    def jpegs() -> Iterator[bytes]:
        def source_fps(fps: float) -> None:
            if pictures and not args.fps:
                pictures.fps = fps

        for index, (jpeg, image) in enumerate(frames_from(args, images=drawing, on_source_fps=source_fps)):
            if image is not None:
                waiting.append((index, image))
            yield jpeg

    announced = None
    try:
        for index, r in camera.run(paced(jpegs(), args.fps)):
            line = {"frame": index, "seq": r.seq, "status": r.status, "count": None if math.isnan(r.count) else r.count,
                    "format": r.density_format, "reason": r.reason}
            if r.density is not None:
                line.update(height=int(r.density.shape[0]), width=int(r.density.shape[1]), mapSum=float(r.density.sum()))
            if r.lines is not None:
                line["lines"] = line_report(r)
            if r.line_set is not None and r.line_set is not announced:
                announced = r.line_set
                camera.log(f"{args.camera}: {len(announced.lines)} counting line(s) from the server: "
                           + ", ".join(l.name for l in announced.lines))
            print(json.dumps(line), flush=True)
            while pictures and waiting and waiting[0][0] <= index:
                at, image = waiting.popleft()
                if at == index and not pictures.add(image, r):
                    return 0  # the window was closed
    except ServerError as err:
        print(f"refused: {err}", file=sys.stderr)
        return 2
    except ssl.SSLError as err:
        print(f"TLS failed: {err}", file=sys.stderr)
        return 3
    except OSError as err:
        print(f"failed: {err}", file=sys.stderr)
        return 1
    except ProtocolError as err:
        print(f"protocol error: {err}", file=sys.stderr)
        return 4
    finally:
        if pictures:
            try:
                pictures.close()
            except OSError as err:  # a snapshot that cannot be written: said, not a traceback
                print(f"failed: {err}", file=sys.stderr)
                return 1  # noqa: B012 (the status of the run is this failure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
