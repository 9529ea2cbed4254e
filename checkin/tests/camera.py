"""A fake camera for the browser tests: Chromium started with
``--use-file-for-fake-video-capture=<file>`` films that file, a Y4M video,
and reads it again each time a page starts the camera. ``show`` writes the
QR code of a ticket (or nothing) into it."""

from __future__ import annotations

import os
from pathlib import Path

import segno

SIZE = 480  # pixels square
FRAMES = 3


def show(path: Path, text: str | None) -> None:
    """Film ``text`` as a QR code from now on (``None``: a white page).
    Written aside and renamed, so the browser never reads half a file."""
    luma = bytearray(b"\xff" * SIZE * SIZE)
    if text is not None:
        matrix = segno.make(text, error="m", micro=False).matrix
        modules = len(matrix) + 8  # with the quiet zone of 4 modules
        scale = SIZE // modules
        origin = (SIZE - scale * modules) // 2 + 4 * scale
        black = b"\x00" * scale
        for row, cells in enumerate(matrix):
            for column, dark in enumerate(cells):
                if dark:
                    x = origin + column * scale
                    for y in range(origin + row * scale, origin + (row + 1) * scale):
                        luma[y * SIZE + x : y * SIZE + x + scale] = black
    grey = b"\x80" * (SIZE // 2) * (SIZE // 2) * 2  # no colour: both chroma planes at the middle
    frame = b"FRAME\n" + bytes(luma) + grey
    partial = path.with_suffix(".partial")
    partial.write_bytes(f"YUV4MPEG2 W{SIZE} H{SIZE} F5:1 Ip A1:1 C420jpeg\n".encode() + frame * FRAMES)
    os.replace(partial, path)
