"""The live view for a plant-floor screen: every line's status now, refreshed by HTMX polling.

GET /en-vivo          the page (big numbers per line)
GET /en-vivo/lineas   HTMX: the line cards alone; the page polls it every few seconds
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from app_flask.engine_client import call_engine
from app_flask.errors import EngineError, EngineUnavailable
from app_flask.login_session import login_required

bp = Blueprint("live", __name__)
STATUS_PATH = "/api/v1/lines/status"
POLL_SECONDS = 5


def _context() -> dict[str, Any]:
    """The engine's line statuses, or an error message the cards area shows while it retries."""
    try:
        data = call_engine("GET", STATUS_PATH)
        return {"status": data, "error": None, "poll_seconds": POLL_SECONDS}
    except (EngineError, EngineUnavailable) as exc:
        return {"status": None, "error": exc.message, "poll_seconds": POLL_SECONDS}


@bp.get("/en-vivo")
@login_required
def page() -> ResponseReturnValue:
    """The full page; its cards poll /en-vivo/lineas."""
    return render_template("live.html", **_context())


@bp.get("/en-vivo/lineas")
@login_required
def lines() -> ResponseReturnValue:
    """HTMX: the cards only (same markup as in the page, so polling goes on)."""
    return render_template("partials/_live_lines.html", **_context())
