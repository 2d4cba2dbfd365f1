"""The stops table behind the dashboard's filters, where supervisors and admins give reasons.

GET  /paradas?<dashboard query>      the page: the stops of the filtered shift instances
POST /paradas/<id>/motivo            HTMX (CSRF header): one reason, or a split at a time into two;
                                     answers the row's reasons cell (or the engine's message)
Everything goes through the engine API (`/api/v1/stops/...`); the engine checks the role again,
so a viewer's forged request is a 403 there too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from app_flask.dashboard_form import filters_to_query, form_to_filters
from app_flask.engine_client import call_engine
from app_flask.errors import EngineError
from app_flask.login_session import current_identity, engine_token, login_required

bp = Blueprint("stops", __name__)
SEARCH_PATH = "/api/v1/stops/search"
REASONS_PATH = "/api/v1/stops/reasons"
MAX_SHOWN = 1000  # a page of stops a person can still read; narrower filters show the rest


def _can_label() -> bool:
    ident = current_identity()
    return bool(ident and ident.can_label_stops)


def _reasons(token: str) -> list[dict[str, Any]]:
    return call_engine("GET", REASONS_PATH, token=token)["reasons"]


@bp.get("/paradas")
@login_required
def page() -> ResponseReturnValue:
    """Stops of the dashboard's current filters (query string), newest first, with their reasons."""
    token = engine_token()
    defs = call_engine("GET", "/api/v1/filters", token=token).get("filters", [])
    raw = form_to_filters(defs, request.args)
    query = urlencode(filters_to_query(defs, raw))
    try:
        found = call_engine("POST", SEARCH_PATH, token=token, json={"filters": raw})
        error, status = None, 200
    except EngineError as exc:
        if exc.status_code != 422:
            raise
        found, error, status = {"stops": [], "truncated": False}, exc.message, 422
    stops = [s for s in found["stops"] if s["kind"] == "stop"]
    stops.reverse()
    return render_template(
        "stops.html", stops=stops[:MAX_SHOWN], more=len(stops) > MAX_SHOWN or found["truncated"],
        micro=sum(1 for s in found["stops"] if s["kind"] == "micro"), reasons=_reasons(token),
        can_label=_can_label(), query=query, error=error,
    ), status


def _label_body(form: Any) -> tuple[str, str, dict[str, Any] | None]:  # noqa: ANN401 - a MultiDict
    """(method, path suffix, body) for the engine from the row's form."""
    reason, until, second = form.get("motivo", ""), form.get("hasta", ""), form.get("motivo2", "")
    if until or second:
        return "POST", "/segments", {"segments": [{"reason": reason, "until": until or None},
                                                  {"reason": second}]}
    return "PATCH", "", {"reason": reason or None}


@bp.post("/paradas/<int(max=9223372036854775807):stop_id>/motivo")
@login_required
def label(stop_id: int) -> ResponseReturnValue:
    """HTMX: set (or split) one stop's reasons through the engine; the row comes back updated."""
    token = engine_token()
    method, suffix, body = _label_body(request.form)
    segments, error, status = [], None, 200
    try:
        answer = call_engine(method, f"/api/v1/stops/{stop_id}{suffix}", token=token, json=body)
        segments = answer["segments"]
    except EngineError as exc:
        if exc.status_code not in (403, 404, 422):
            raise
        error, status = exc.message, exc.status_code
    return render_template("partials/_stop_reasons.html", segments=segments, error=error), status
