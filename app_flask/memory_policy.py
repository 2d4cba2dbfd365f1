"""Page requests count in the process's memory policy (core.memory.RUN_MEMORY).

The page server parses every dashboard answer and renders it; under a burst its threads leave
the heap larger than the warm process (+22 % after a 20-user load test with `manage.py serve`),
and only the engine's runs gave memory back. Counting requests in the same policy returns the
heap once the page server goes idle after growing, in a thread, after the answer was sent.
"""

from __future__ import annotations

import threading

from flask import Flask, g

from core import memory


def init_app(app: Flask) -> None:
    """Count every request of `app` in and out of the process's policy."""

    @app.before_request
    def _count_in() -> None:
        g.camet_rss_before = memory.RUN_MEMORY.started()

    @app.teardown_request
    def _count_out(_exc: BaseException | None) -> None:
        before = g.pop("camet_rss_before", None)
        if before is None:  # an earlier hook answered before this one counted the request in
            return
        policy = memory.RUN_MEMORY
        if policy.finished(before):
            threading.Thread(target=policy.release, name="camet-release", daemon=True).start()
