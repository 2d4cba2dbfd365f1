"""A daemon thread that keeps something alive between a job run's own database calls.

A run holds its lock for minutes while it computes; the lock must be renewed (a SQLite lease)
or its connection pinged (MariaDB drops idle connections after `wait_timeout`) meanwhile. The
thread is a daemon, so it never keeps a process alive, and `stop()` ends it at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Heartbeat:
    """Calls `beat()` every `interval_s()` seconds (re-read each time) until stopped; a beat that
    returns False ends the thread, one that raises is logged and the next beat still comes."""

    def __init__(self, name: str, beat: Callable[[], bool], interval_s: Callable[[], float]) -> None:
        self.name = name
        self._beat = beat
        self._interval_s = interval_s
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start beating (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Beat now and wait the (possibly new) interval from here."""
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        """End the thread and wait for a beat in progress to finish."""
        self._stopped.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(max(0.05, self._interval_s()))
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                if not self._beat():
                    return
            except Exception:  # the thread must outlive a database outage
                log.exception("%s: beat failed", self.name)
