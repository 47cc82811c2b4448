#!/usr/bin/env python3
"""Drives an X display like a user, through the XTEST extension (libXtst, with
ctypes: no packages). Arguments are steps:
  click X Y | rclick X Y | key NAME (X keysym name: Return, q, BackSpace) | wait SECONDS
Used by the tests to click corners in `crowdline zones draw` under Xvfb."""
import ctypes
import sys
import time

x11 = ctypes.CDLL("libX11.so.6")
xtst = ctypes.CDLL("libXtst.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XFlush.argtypes = [ctypes.c_void_p]
x11.XStringToKeysym.restype = ctypes.c_ulong
x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
x11.XKeysymToKeycode.restype = ctypes.c_ubyte
xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ulong]
xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]

display = x11.XOpenDisplay(None)
if not display:
    sys.exit("cannot open the display")


def press(button, x, y):
    xtst.XTestFakeMotionEvent(display, -1, x, y, 0)
    x11.XFlush(display)
    time.sleep(0.05)
    xtst.XTestFakeButtonEvent(display, button, 1, 0)
    xtst.XTestFakeButtonEvent(display, button, 0, 0)
    x11.XFlush(display)
    time.sleep(0.15)


args = sys.argv[1:]
i = 0
while i < len(args):
    step = args[i]
    if step in ("click", "rclick"):
        press(1 if step == "click" else 3, int(args[i + 1]), int(args[i + 2]))
        i += 3
    elif step == "key":
        code = x11.XKeysymToKeycode(display, x11.XStringToKeysym(args[i + 1].encode()))
        xtst.XTestFakeKeyEvent(display, code, 1, 0)
        xtst.XTestFakeKeyEvent(display, code, 0, 0)
        x11.XFlush(display)
        time.sleep(0.15)
        i += 2
    elif step == "wait":
        time.sleep(float(args[i + 1]))
        i += 2
    else:
        sys.exit(f"unknown step {step}")
