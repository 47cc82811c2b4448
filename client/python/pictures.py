"""Where the Python client's pictures go: each answered frame with the camera's
counting lines drawn (line_overlay.py), into a Motion-JPEG AVI (--record), a
window (--show), and the last one into a PNG (--snapshot).

Needs OpenCV's Python binding (python3-opencv); imported only when one of
those options is given.
"""
from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

from crowdline_client import Result
from line_overlay import draw_lines

QUIT_KEYS = {ord("q"), 27}  # q, Esc


class Pictures:
    def __init__(self, camera: str, *, record: Optional[str] = None, snapshot: Optional[str] = None,
                 show: bool = False, fps: float = 10.0):
        self.title = f"crowdline {camera}"
        self.record, self.snapshot, self.show, self.fps = record, snapshot, show, fps
        self.writer: Optional[cv2.VideoWriter] = None
        self.size: Optional[tuple] = None  # (width, height) of the recording: its first frame's
        self.last: Optional[np.ndarray] = None
        self.window_open = False

    def add(self, frame: np.ndarray, result: Result) -> bool:
        """Draws and outputs one answered frame (the picture sent); False when the window was closed."""
        image = frame
        height, width = image.shape[:2]
        if result.line_set is not None and result.line_set.lines:
            image = frame.copy()  # drawn on, and the same picture may be sent again (--image)
            # Counts only from an ok RESULT; otherwise the arrows say just "in" and "out".
            draw_lines(image, result.line_set, result.lines if result.ok else None, (width, height))
        if self.record:
            if self.writer is None:
                self.size = (width, height)
                self.writer = cv2.VideoWriter(self.record, cv2.VideoWriter_fourcc(*"MJPG"), self.fps, self.size)
                if not self.writer.isOpened():
                    raise OSError(f"cannot record to {self.record} (OpenCV could not open a Motion-JPEG AVI there)")
            self.writer.write(image if (width, height) == self.size else cv2.resize(image, self.size))
        if self.snapshot:
            self.last = image
        if self.show:
            if not self.window_open:
                # The frame at its own size, no toolbar (as zone_window.py).
                cv2.namedWindow(self.title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
                self.window_open = True
            cv2.imshow(self.title, image)
            key = cv2.waitKey(1)
            if key != -1 and key & 0xFF in QUIT_KEYS:
                return False
            if cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
                return False
        return True

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
        if self.snapshot and self.last is not None and not cv2.imwrite(self.snapshot, self.last):
            raise OSError(f"cannot write {self.snapshot}")
        if self.show:
            cv2.destroyAllWindows()
