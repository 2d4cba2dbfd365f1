"""Circuit breakers per (API, tenant): a failing provider is not called for a cool-down.

    closed     calls go through; `failures` consecutive failures open it
    open       calls fail fast until `cooldown_s` has passed since it opened
    half_open  one probe call goes through; success closes it, failure opens it again

Times come from the injected clock, so tests move them; the state is per process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

State = Literal["closed", "open", "half_open"]


@dataclass
class Breaker:
    """The state of one (API, tenant) pair."""

    failures: int
    cooldown_s: float
    state: State = "closed"
    consecutive: int = 0
    opened_at: datetime | None = None
    probing: bool = False
    last_error: str | None = None
    last_success: datetime | None = None
    last_failure: datetime | None = None

    def allow(self, now: datetime) -> bool:
        """Whether a call may go out now (moves open → half_open after the cool-down)."""
        if self.state == "closed":
            return True
        if self.state == "open" and self.opened_at is not None:
            if now - self.opened_at >= timedelta(seconds=self.cooldown_s):
                self.state = "half_open"
                self.probing = False
        if self.state == "half_open" and not self.probing:
            self.probing = True
            return True
        return False

    def retry_in_s(self, now: datetime) -> float:
        """Seconds until the next probe may go out (0 when it may go now)."""
        if self.state != "open" or self.opened_at is None:
            return 0.0
        left = self.opened_at + timedelta(seconds=self.cooldown_s) - now
        return max(0.0, left.total_seconds())

    def success(self, now: datetime) -> None:
        self.state, self.consecutive, self.opened_at, self.probing = "closed", 0, None, False
        self.last_success = now

    def failure(self, now: datetime, message: str) -> None:
        self.consecutive += 1
        self.last_error, self.last_failure, self.probing = message, now, False
        if self.state == "half_open" or self.consecutive >= self.failures:
            self.state, self.opened_at = "open", now

    def snapshot(self, now: datetime) -> dict[str, Any]:
        """The admin view: state, counts and times (no payloads, no credentials)."""
        return {
            "state": self.state,
            "consecutive_failures": self.consecutive,
            "failures_to_open": self.failures,
            "cooldown_s": self.cooldown_s,
            "retry_in_s": round(self.retry_in_s(now), 1),
            "last_error": self.last_error,
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "last_failure": self.last_failure.isoformat() if self.last_failure else None,
        }


class BreakerBoard:
    """Every breaker of the process; the lock guards state shared by a2wsgi's loop threads."""

    def __init__(self) -> None:
        self._breakers: dict[tuple[str, str], Breaker] = {}
        self.lock = threading.Lock()

    def get(self, api_id: str, tenant: str, failures: int, cooldown_s: float) -> Breaker:
        """The breaker of (api, tenant), created closed; thresholds follow the manifest."""
        with self.lock:
            breaker = self._breakers.get((api_id, tenant))
            if breaker is None:
                breaker = self._breakers[(api_id, tenant)] = Breaker(failures, cooldown_s)
            breaker.failures, breaker.cooldown_s = failures, cooldown_s
            return breaker

    def peek(self, api_id: str, tenant: str) -> Breaker | None:
        with self.lock:
            return self._breakers.get((api_id, tenant))

    def notes(self, tenant: str, now: datetime) -> list[str]:
        """One admin-visible line per breaker of `tenant` that is not closed."""
        with self.lock:
            items = sorted((api, b) for (api, t), b in self._breakers.items() if t == tenant)
            out = []
            for api_id, breaker in items:
                if breaker.state == "closed":
                    continue
                wait = f"; reintento en {breaker.retry_in_s(now):.0f} s" if breaker.state == "open" else ""
                out.append(f"fuente externa '{api_id}': circuito abierto tras {breaker.consecutive} "
                           f"fallas (último error: {breaker.last_error}{wait})")
            return out
