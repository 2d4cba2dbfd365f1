"""Log a dependency's outage once, not once per request.

While Redis or a disk fails, every request meets the same failure; a warning per request would
bury the cause (and fill the very disk that is full). An `OutageLog` writes one warning when a
failure starts or its cause changes, and one line when the dependency works again.
"""

from __future__ import annotations

import logging
import threading


class OutageLog:
    """The up/down state of one dependency, logged on each change only."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self.logger = logger
        self.what = what
        self.cause: str | None = None  # None while the dependency works
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        """Whether the last use failed."""
        return self.cause is not None

    def failed(self, cause: str, consequence: str) -> None:
        """Record a failure; a warning only when the outage starts or its cause changes."""
        with self._lock:
            if cause == self.cause:
                return
            self.cause = cause
        self.logger.warning("%s: %s; %s", self.what, cause, consequence)

    def ok(self) -> None:
        """Record a success; one line when it ends an outage."""
        if self.cause is None:
            return
        with self._lock:
            if self.cause is None:
                return
            self.cause = None
        self.logger.info("%s: works again", self.what)

    def close(self) -> None:
        """Nothing to release (so a Runtime may keep one as a part)."""
