"""A one-line progress bar on stderr, drawn only when stderr is a terminal (and not ``--quiet``)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Redraws ``regloss: [#####.....]  45%  1,234,567 rows`` at most ten times a second."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None, interval: float = 0.1):
        self._stream = stream if stream is not None else sys.stderr
        self._interval = interval
        self._last = 0.0
        self._drawn = False

    @staticmethod
    def wanted(quiet: bool, stream: TextIO | None = None) -> bool:
        """Whether to draw one: not ``--quiet``, and stderr is a terminal."""
        stream = stream if stream is not None else sys.stderr
        isatty = getattr(stream, "isatty", None)
        return not quiet and bool(isatty and isatty())

    def update(self, fraction: float | None, rows: int) -> None:
        now = time.monotonic()
        if now - self._last < self._interval:
            return
        self._last = now
        if fraction is None:
            text = f"regloss: {rows:,} rows"
        else:
            filled = int(round(self.WIDTH * min(max(fraction, 0.0), 1.0)))
            bar = "#" * filled + "." * (self.WIDTH - filled)
            text = f"regloss: [{bar}] {100 * fraction:3.0f}%  {rows:,} rows"
        self._stream.write("\r" + text + "\033[K")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the bar (so that what follows starts on a clean line)."""
        if self._drawn:
            self._stream.write("\r\033[K")
            self._stream.flush()
            self._drawn = False
