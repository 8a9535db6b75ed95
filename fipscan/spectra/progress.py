"""A small progress bar on stderr (no third-party dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _fmt_time(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """``[#####.....]  52%  520000/1000000 events  7900 ev/s  ETA 01:01  soft``.

    On a terminal the line is redrawn in place; otherwise a line is printed at most every
    ``interval`` seconds (and at the end), so logs stay short.
    """

    def __init__(self, total: int, *, enabled: bool = True, stream: TextIO | None = None,
                 width: int = 30, interval: float = 10.0) -> None:  # fmt: skip
        self.total = max(int(total), 1)
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.interval = interval
        self.done = 0
        self.start = time.monotonic()
        self._last = 0.0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._counted_from = 0  # events already on disk when resuming do not count towards the rate

    def message(self, text: str) -> None:
        if self.enabled:
            self._clear()
            print(f"fipscan: {text}", file=self.stream, flush=True)

    def skip(self, n: int) -> None:
        """``n`` events were already done (resumed), not generated now."""
        self.done += n
        self._counted_from += n

    def update(self, n: int, label: str = "") -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (self._tty or now - self._last >= self.interval or self.done >= self.total):
            self._last = now
            self._draw(label)

    def _line(self, label: str) -> str:
        frac = min(self.done / self.total, 1.0)
        filled = int(round(frac * self.width))
        elapsed = time.monotonic() - self.start
        made = self.done - self._counted_from
        rate = made / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta_s = _fmt_time(eta) if eta == eta else "--:--"
        bar = "#" * filled + "." * (self.width - filled)
        return (f"[{bar}] {100 * frac:5.1f}%  {self.done}/{self.total} events  {rate:7.0f} ev/s  "
                f"ETA {eta_s}  {label}")  # fmt: skip

    def _draw(self, label: str) -> None:
        line = self._line(label)
        if self._tty:
            self.stream.write("\r" + line + "\x1b[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _clear(self) -> None:
        if self._tty and self.done:
            self.stream.write("\r\x1b[K")

    def close(self) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self.start
            if self._tty:
                self.stream.write("\n")
            self.stream.write(f"fipscan: generated {self.done - self._counted_from} events in {_fmt_time(elapsed)}\n")
            self.stream.flush()
