"""A private `redis-server` for fault tests: its own port, no persistence, so a test may freeze,
kill and restart it without touching the shared Redis other tests use.

Faults are real signals to the real process: `freeze()` is SIGSTOP (the kernel still accepts
connections into the listen backlog, nothing is answered: a hung host), `kill()` is SIGKILL
(the port is closed: connections are refused), `start()` after `kill()` comes back on the same
port, empty.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from tests.fault_process import SignalledProcess
from tests.servers import free_port

REDIS_SERVER = shutil.which("redis-server") or ""


def available() -> bool:
    """True when this machine can start a private server."""
    return bool(REDIS_SERVER)


class PrivateRedis(SignalledProcess):
    """One server process on its own port; `url(db)` is a redis:// URL on it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.frozen = False

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self) -> redis.Redis:
        """A client for setup and inspection (short timeouts: a frozen server fails it fast)."""
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def start(self, timeout_s: float = 10.0) -> None:
        """Start (or start again) on this port and wait until it answers PING."""
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.frozen = False
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited")
            try:
                self.client().ping()
                return
            except redis.RedisError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server on port {self.port} did not come up")


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """A started private server, killed at the end."""
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.kill()
