"""A dependency-free progress line on stderr, redrawn in place when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``with Progress(total, "predict") as bar: bar.update(...)``; quiet when ``enabled`` is False."""

    def __init__(self, total: int | None, label: str, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.total = total
        self.label = label
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.done = 0
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._interactive = self.stream.isatty()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.enabled and self._interactive:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self._start

    def update(self, n: int = 1, note: str = "") -> None:
        self.done += n
        if self.enabled:
            self._draw(note=note)

    def _draw(self, note: str = "", force: bool = False) -> None:
        now = time.perf_counter()
        # Redraw at most 10x a second; when not a terminal, print a line every ~5 s only.
        min_gap = 0.1 if self._interactive else 5.0
        if not force and now - self._last_draw < min_gap:
            return
        self._last_draw = now
        rate = self.done / max(self.elapsed_s, 1e-9)
        if self.total:
            width = 24
            filled = int(width * self.done / self.total)
            eta = (self.total - self.done) / rate if rate > 0 else 0.0
            text = (
                f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{rate:.1f}/s eta {eta:.0f}s {note}"
            )
        else:
            text = f"{self.label} {self.done} {rate:.1f}/s {note}"
        if self._interactive:
            self.stream.write("\r" + text[:120].ljust(120))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
