"""Work an engine route starts and does not wait for ("run now", CSV imports).

One small thread pool per runtime (so per process), built on first use and shut down with the
runtime. Its work records its own state in the database (job_runs, csv_uploads), so every
process can show it and the request that started it returns at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from core.runtime import Runtime

log = logging.getLogger(__name__)
WORKERS = 2  # shared hosting: few threads; an import and a job run can go side by side


class BackgroundWork:
    """A bounded thread pool whose failures are logged (the work records its own errors)."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="camet-background")

    def submit(self, func: Callable[..., Any], *args: Any) -> Future:  # noqa: ANN401
        """Run `func(*args)` in the background; an exception is logged, never lost silently."""
        future = self._pool.submit(func, *args)
        future.add_done_callback(_log_failure)
        return future

    def close(self) -> None:
        """Finish the work that started, drop the queued rest."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("background work failed", exc_info=future.exception())


def background(rt: Runtime) -> BackgroundWork:
    """The runtime's background pool."""
    return rt.part("background_work", BackgroundWork)
