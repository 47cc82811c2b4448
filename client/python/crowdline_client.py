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
HELLO, WELCOME, FRAME, RESULT, ERROR, BYE = 1, 2, 3, 4, 5, 6
MAGIC = b"CRWD"
VERSION = 1
HELLO_FIXED = struct.Struct("<HBBHB")          # §3.1 after the magic: version, format, flags, window, name length
WELCOME_FIXED = struct.Struct("<HBBHIHHBB")    # §3.2
FRAME_FIXED = struct.Struct("<Id")             # §3.3 seq, captureTime
RESULT_FIXED = struct.Struct("<IBBHdfIIIIHHf")  # §3.4
FLAG_COUNT_ONLY, FLAG_EXTENSIONS = 0x01, 0x02
EXT_TOKEN = 0x01                                # §3.1.1
FORMATS = {"f32": 0, "f16": 1, "u8": 2, "none": 255}
STATUS_NAMES = {0: "ok", 1: "frame-error", 2: "dropped", 3: "server-error"}
ERROR_NAMES = {1: "BadMagic", 2: "UnsupportedVersion", 3: "FrameTooLarge", 4: "MalformedMessage",
               5: "HandshakeTimeout", 6: "IdleTimeout", 7: "ShuttingDown", 8: "ServerFull",
               9: "SequenceOrder", 10: "UnexpectedMessage", 11: "Unauthorized", 12: "TlsRequired"}
# §5: reconnecting cannot help after these (client bugs, a wrong token, TLS needed).
PERMANENT_ERRORS = {1, 2, 3, 4, 9, 10, 11, 12}
MAX_CONTROL_BODY = 4096
MAX_RESULT_BODY = 64 * 1024 * 1024


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

    @property
    def ok(self) -> bool:
        return self.status == "ok"


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


def encode_hello(camera: str, density: int, count_only: bool, window: int, token: Optional[str]) -> bytes:
    name = camera.encode("utf-8")[:255]
    ext = b""
    if token is not None:
        raw = token.encode("utf-8")
        if not 0 < len(raw) <= 255:
            raise ValueError("a token must be 1-255 bytes")
        ext = bytes([EXT_TOKEN, len(raw)]) + raw
    flags = (FLAG_COUNT_ONLY if count_only else 0) | (FLAG_EXTENSIONS if ext else 0)
    body = MAGIC + HELLO_FIXED.pack(VERSION, density, flags, window, len(name)) + name + ext
    return HEADER.pack(HELLO, 0, 0, len(body)) + body


class Connection:
    """One v1 connection: HELLO/WELCOME, then FRAMEs out and RESULTs back in order (§4)."""

    def __init__(self, host: str, port: int, camera: str, *, token: Optional[str] = None, tls: bool = False,
                 ca: Optional[str] = None, cert: Optional[str] = None, key: Optional[str] = None,
                 density: str = "f16", window: int = 0, timeout: float = 10.0):
        self.host, self.port = host, port
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
            self.sock.sendall(encode_hello(camera, fmt, fmt == 255, window, token))
            kind, body = self._read_message()
            if kind == ERROR:
                raise self._error(body)
            if kind != WELCOME:
                raise ProtocolError(f"expected WELCOME, got message type {kind}")
        except BaseException:
            self.close()
            raise
        self.welcome = self._welcome(body)
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
        """The next RESULT, in FRAME order. Raises ServerError on ERROR, ConnectionError on a close."""
        kind, body = self._read_message()
        if kind == ERROR:
            raise self._error(body)
        if kind != RESULT:
            raise ProtocolError(f"expected RESULT, got message type {kind}")
        (seq, status, fmt, _r, capture, count, q, d, i, s, height, width, scale) = RESULT_FIXED.unpack_from(body)
        expected = self.pending.popleft() if self.pending else None
        if seq != expected:
            raise ProtocolError(f"RESULT for seq {seq}, expected {expected} (§4.1: in order)")
        payload = body[RESULT_FIXED.size:]
        result = Result(seq, STATUS_NAMES.get(status, str(status)), capture, count, q, d, i, s, fmt)
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
        limit = MAX_RESULT_BODY if kind == RESULT else MAX_CONTROL_BODY
        if length > limit:
            raise ProtocolError(f"message type {kind} of {length} bytes exceeds {limit} (§2.3)")
        return kind, self._read_exact(length)

    @staticmethod
    def _error(body: bytes) -> ServerError:
        (code,) = struct.unpack_from("<H", body)
        return ServerError(code, body[2:].decode("utf-8", "replace"))

    @staticmethod
    def _welcome(body: bytes) -> Welcome:
        v, fmt, flags, window, max_bytes, w, h, stride, _r = WELCOME_FIXED.unpack_from(body)
        at = WELCOME_FIXED.size
        model = body[at + 1: at + 1 + body[at]].decode("utf-8", "replace")
        at += 1 + body[at]
        provider = body[at + 1: at + 1 + body[at]].decode("utf-8", "replace")
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
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))

    def connect(self) -> Connection:
        delay, attempt = 0.25, 0
        while True:
            try:
                return Connection(self.host, self.port, self.name, token=self.token, tls=self.tls, ca=self.ca,
                                  cert=self.cert, key=self.key, density=self.density, window=self.window)
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


def frames_from(args: argparse.Namespace) -> Iterator[bytes]:
    """JPEG bytes from --image (sent --frames times) or a video/camera via OpenCV."""
    if args.image:
        with open(args.image, "rb") as f:
            jpeg = f.read()
        for _ in range(args.frames):
            yield jpeg
        return
    import cv2  # Debian: apt-get install python3-opencv
    source = int(args.video) if args.video.isdigit() else args.video
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise SystemExit(f"cannot open {args.video}")
    sent = 0
    while args.frames <= 0 or sent < args.frames:
        ok, image = capture.read()
        if not ok:
            break
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, args.quality])
        if ok:
            sent += 1
            yield encoded.tobytes()
    capture.release()


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
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--image", help="a JPEG file, sent --frames times")
    src.add_argument("--video", help="video file or camera index (OpenCV)")
    p.add_argument("--frames", type=int, default=10, help="frames to send (0 with --video: all)")
    p.add_argument("--quality", type=int, default=80, help="JPEG quality for --video")
    p.add_argument("--fps", type=float, default=0, help="send at most this many frames per second (0: as fast as answered)")
    args = p.parse_args(argv)
    host, _, port = args.server.rpartition(":")
    token = open(args.token_file).read().strip() if args.token_file else os.environ.get("CROWDLINE_TOKEN") or None
    camera = Camera(host, int(port), args.camera, token=token, tls=args.tls, ca=args.ca, cert=args.cert,
                    key=args.key, density=args.density, window=args.window)
    try:
        for index, r in camera.run(paced(frames_from(args), args.fps)):
            line = {"frame": index, "seq": r.seq, "status": r.status, "count": None if math.isnan(r.count) else r.count,
                    "format": r.density_format, "reason": r.reason}
            if r.density is not None:
                line.update(height=int(r.density.shape[0]), width=int(r.density.shape[1]), mapSum=float(r.density.sum()))
            print(json.dumps(line), flush=True)
    except ServerError as err:
        print(f"refused: {err}", file=sys.stderr)
        return 2
    except ssl.SSLError as err:
        print(f"TLS failed: {err}", file=sys.stderr)
        return 3
    except OSError as err:
        print(f"failed: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
