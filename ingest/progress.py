"""Progress lines for long commands (seeding, imports): rows done, rate and time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Prints at most one line per `every_s` seconds to a stream (stderr by default)."""

    def __init__(self, label: str, total: int | None, *, every_s: float = 1.0,
                 stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.every_s = every_s
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self._last = 0.0

    def advance(self, n: int) -> None:
        """Count `n` more rows and print a line if enough time has passed."""
        self.done += n
        now = time.perf_counter()
        if now - self._last >= self.every_s:
            self._last = now
            self._print(now)

    def _print(self, now: float, final: bool = False) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        parts = [f"{self.label}: {self.done:,} rows"]
        if self.total:
            parts[0] += f" of {self.total:,} ({100 * self.done / self.total:.0f}%)"
        parts.append(f"{rate:,.0f} rows/s")
        if final:
            parts.append(f"{elapsed:.1f}s")
        elif self.total and rate > 0:
            parts.append(f"~{max(self.total - self.done, 0) / rate:.0f}s left")
        self.stream.write(" · ".join(parts) + "\n")
        self.stream.flush()

    def finish(self) -> float:
        """Print the final line; returns the elapsed seconds."""
        now = time.perf_counter()
        self._print(now, final=True)
        return now - self.started
