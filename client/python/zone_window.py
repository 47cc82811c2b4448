#!/usr/bin/env python3
"""Window half of `crowdline zones draw`.

The Node OpenCV binding has no mouse callbacks, so this small relay owns the
window: it shows the images Node asks for (stdin: "show PATH", "quit") and
reports clicks and keys as JSON lines on stdout. All drawing, zone logic and
YAML stay in Node (client/zones/zone-draw-session.ts).
"""
import json
import queue
import sys
import threading

try:
    import cv2
except ImportError:
    sys.stderr.write("the zone window needs OpenCV for Python (apt-get install python3-opencv)\n")
    sys.exit(3)

TITLE = sys.argv[1] if len(sys.argv) > 1 else "crowdline zones"
commands = queue.Queue()


def read_commands():
    for line in sys.stdin:
        commands.put(line.rstrip("\n"))
    commands.put(None)  # Node went away: close


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def on_mouse(event, x, y, _flags, _param):
    if event == cv2.EVENT_LBUTTONDOWN:
        emit(event="click", x=x, y=y)
    elif event == cv2.EVENT_RBUTTONDOWN:
        emit(event="rclick", x=x, y=y)


def main():
    threading.Thread(target=read_commands, daemon=True).start()
    cv2.namedWindow(TITLE, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
    cv2.moveWindow(TITLE, 0, 0)
    cv2.setMouseCallback(TITLE, on_mouse)
    shown = False
    while True:
        try:
            while True:
                command = commands.get_nowait()
                if command is None or command == "quit":
                    cv2.destroyAllWindows()
                    return
                if command.startswith("show "):
                    image = cv2.imread(command[5:], cv2.IMREAD_COLOR)
                    if image is not None:
                        cv2.imshow(TITLE, image)
                        if not shown:
                            shown = True
                            emit(event="ready")
        except queue.Empty:
            pass
        key = cv2.waitKey(20)
        if key != -1:
            emit(event="key", key=key & 0xFF)
        if shown and cv2.getWindowProperty(TITLE, cv2.WND_PROP_VISIBLE) < 1:
            emit(event="closed")
            return


if __name__ == "__main__":
    main()
