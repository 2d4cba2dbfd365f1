"""CSV downloads of the dashboard: one widget's data, or the shift report, for the URL's filters.

GET /exportar/widget/<id>?<dashboard query>[&formato=excel]   that card's rows
GET /exportar/turnos?<dashboard query>[&formato=excel]        the per-shift report
Both proxy the engine's `/api/v1/exports/...` (same filters, same validation) and pass its
stream through; `formato=excel` is the Spanish-Excel variant (`;`, decimal comma, BOM).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from app_flask.dashboard_form import form_to_filters
from app_flask.engine_client import call_engine, current_engine
from app_flask.login_session import engine_token, login_required
from app_flask.responses import error_response

bp = Blueprint("exports", __name__)
PASSED_HEADERS = ("Content-Type", "Content-Disposition")


def _body(token: str) -> dict[str, Any]:
    """The engine request body: the dashboard filters of the query string (and its layout)."""
    defs = call_engine("GET", "/api/v1/filters", token=token).get("filters", [])
    body: dict[str, Any] = {"filters": form_to_filters(defs, request.args)}
    tablero = request.args.get("tablero", "")
    if tablero.isdigit() and 0 < int(tablero) < 2**31:
        body["layout_id"] = int(tablero)
    return body


def _pass_through(response: httpx.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes()
    finally:
        response.close()


def _download(path: str, body: dict[str, Any], token: str) -> ResponseReturnValue:
    fmt = "excel" if request.args.get("formato") == "excel" else "csv"
    answer = current_engine().stream("POST", path, token=token, json=body, params={"format": fmt})
    if not answer.is_success:
        answer.read()
        answer.close()
        try:
            message = answer.json().get("message")
        except ValueError:
            message = None
        return error_response(answer.status_code if answer.status_code < 500 else 502, message)
    headers = {name: answer.headers[name] for name in PASSED_HEADERS if name in answer.headers}
    return Response(_pass_through(answer), headers=headers)


@bp.get("/exportar/widget/<int(max=9223372036854775807):widget_id>")
@login_required
def widget(widget_id: int) -> ResponseReturnValue:
    """One widget's data as CSV, for the filters in the query string."""
    token = engine_token()
    return _download(f"/api/v1/exports/widgets/{widget_id}", _body(token), token)


@bp.get("/exportar/turnos")
@login_required
def shifts() -> ResponseReturnValue:
    """The per-shift report as CSV, for the filters in the query string."""
    token = engine_token()
    body = _body(token)
    body.pop("layout_id", None)
    return _download("/api/v1/exports/shifts", body, token)
