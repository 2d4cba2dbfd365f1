"""The engine's shutdown hook for the broker's shared HTTP clients."""

from __future__ import annotations

from broker.state import broker_state
from core.runtime import Runtime


async def close_loop_client(rt: Runtime) -> None:
    """Close the running event loop's shared httpx client (under uvicorn, on shutdown)."""
    await broker_state(rt).clients.aclose_current()
