"""Shared httpx clients: one per event loop of the process, with a per-host connection limit.

uvicorn runs one loop; a2wsgi runs its loop in a thread; tests may run several loops. A client
is bound to the loop that created it, so clients are keyed by the running loop (weakly: a
closed loop's client goes away with it). `aclose_current` closes the running loop's client on
shutdown; `close` closes the others from any thread.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from dataclasses import dataclass, field

import httpx


@dataclass
class LoopClient:
    """The client of one loop and one semaphore per host (the per-host connection limit)."""

    client: httpx.AsyncClient
    per_host: int
    hosts: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    def host_slot(self, host: str) -> asyncio.Semaphore:
        """The semaphore bounding concurrent requests to `host` from this loop."""
        slot = self.hosts.get(host)
        if slot is None:
            slot = self.hosts[host] = asyncio.Semaphore(self.per_host)
        return slot


class ClientPool:
    """Clients by event loop; no redirects followed, no proxy from the environment."""

    def __init__(self, per_host: int = 4) -> None:
        self.per_host = per_host
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopClient] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self.created = 0

    def current(self) -> LoopClient:
        """The running loop's client, built on first use."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._clients.get(loop)
            if entry is None or entry.client.is_closed:
                client = httpx.AsyncClient(
                    follow_redirects=False, trust_env=False,
                    limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                )
                entry = self._clients[loop] = LoopClient(client, self.per_host)
                self.created += 1
            return entry

    def __len__(self) -> int:
        """How many loops hold an open client."""
        with self._lock:
            return sum(1 for entry in self._clients.values() if not entry.client.is_closed)

    async def aclose_current(self) -> None:
        """Close the running loop's client (the engine's shutdown hook under uvicorn)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._clients.pop(loop, None)
        if entry is not None:
            await entry.client.aclose()

    def close(self) -> None:
        """Close every client whose loop still runs in another thread; forget the rest."""
        with self._lock:
            entries = list(self._clients.items())
            self._clients.clear()
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        for loop, entry in entries:
            if loop.is_running() and loop is not here and not loop.is_closed():
                future = asyncio.run_coroutine_threadsafe(entry.client.aclose(), loop)
                try:
                    future.result(timeout=2.0)
                except Exception:  # noqa: BLE001 - best effort at shutdown
                    future.cancel()
