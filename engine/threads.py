"""Blocking work (database reads, pandas) run off the event loop, in the process's thread pool.

The same pool the web layer uses (anyio's), and the caller's context variables go along, so
the database wait budget set for a request (core/db_budget.py) holds in the thread too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")


async def in_thread(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`func(*args, **kwargs)` in a worker thread, awaited."""
    return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))
