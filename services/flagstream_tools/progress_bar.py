"""A dependency-free progress line for long-running commands."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Redraws one line on a terminal; prints a line every few seconds otherwise."""

    def __init__(self, label: str, total: int, unit: str, stream: TextIO = sys.stderr) -> None:
        self._label, self._total, self._unit, self._stream = label, total, unit, stream
        self._tty = stream.isatty()
        self._started = self._last = time.monotonic()
        self.done = 0

    def advance(self, n: int = 1, note: str = "") -> None:
        """Count n more items done and redraw if due."""
        self.done += n
        now = time.monotonic()
        if now - self._last >= (0.1 if self._tty else 5.0) or self.done >= self._total:
            self._last = now
            self._draw(note)

    def _draw(self, note: str) -> None:
        width = 30
        filled = int(width * self.done / self._total) if self._total else width
        rate = self.done / max(time.monotonic() - self._started, 1e-9)
        text = (
            f"{self._label} [{'#' * filled}{'.' * (width - filled)}] "
            f"{self.done:,}/{self._total:,} {self._unit} ({rate:,.0f}/s) {note}"
        )
        self._stream.write(("\r" + text) if self._tty else text + "\n")
        self._stream.flush()

    def close(self) -> float:
        """Finish the line; return seconds elapsed."""
        if self._tty:
            self._stream.write("\n")
        return time.monotonic() - self._started
