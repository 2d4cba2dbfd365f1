"""The dashboard page and its HTMX cycle; every number comes from the engine's one run.

GET /                the page: filter panel + widget grid, state taken from the URL
POST /dashboard/apply   HTMX (CSRF header): runs the dashboard, returns one partial per widget;
                        one engine call: the panel sends back the fields it was rendered with
GET /dashboard/filters  the filter definitions as JSON (for scripts and the panel)
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal

from app_flask.dashboard_form import as_applied, drill_filters, filters_to_query, form_to_filters, panel_state
from app_flask.engine_client import call_engine
from app_flask.errors import EngineError
from app_flask.login_session import current_identity, engine_token, login_required
from app_flask.request_guards import dashboard_run_limit
from app_flask.views import saved_views

bp = Blueprint("dashboard", __name__)
log = logging.getLogger(__name__)
RUN_PATH = "/api/v1/dashboard/run"
FILTERS_PATH = "/api/v1/filters"
DASHBOARDS_PATH = "/api/v1/dashboards"
FIELDS = "_campos"
"""The form value that carries the panel's fields (param and form type) back with each apply."""
MAX_FIELDS = 200


def _definitions(token: str) -> dict[str, Any]:
    return call_engine("GET", FILTERS_PATH, token=token)


def panel_fields(filters: list[dict[str, Any]]) -> str:
    """What reading the panel's form needs of each filter, as JSON: its param and form type."""
    return json.dumps([{"param": d["param"], "form": d.get("form") or {}} for d in filters],
                      separators=(",", ":"))


def kept_fields(form: Any) -> list[dict[str, Any]] | None:  # noqa: ANN401 - a werkzeug MultiDict
    """The fields the panel was rendered with, sent back by the page; None when absent or
    malformed (a page from before this field): then the engine is asked for the definitions.
    They only shape the form into raw values; the engine validates every value anyway."""
    try:
        fields = json.loads(form.get(FIELDS) or "null")
    except ValueError:
        return None
    if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
        return None
    kept = []
    for f in fields:
        if not (isinstance(f, dict) and isinstance(f.get("param"), str) and isinstance(f.get("form"), dict)):
            return None
        kept.append({"param": f["param"], "form": f["form"]})
    return kept


Run = tuple[dict[str, Any] | None, list[dict[str, str]], str | None, int]


def _tablero() -> int | None:
    """The dashboard chosen in the URL or form (`tablero=<id>`); None: the tenant's default."""
    value = request.values.get("tablero", "")
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


def _run(token: str, raw: dict[str, Any]) -> Run:
    """(result, field errors, general error, status) of one engine run."""
    body = {"filters": raw, "layout_id": _tablero()}
    try:
        return call_engine("POST", RUN_PATH, token=token, json=body), [], None, 200
    except EngineError as exc:
        if exc.status_code == 503:  # busy or no database: the engine logged the cause
            log.warning("engine answered 503 to a dashboard run: %s", exc.message)
        elif exc.status_code >= 500:
            log.error("engine answered %s to a dashboard run: %s", exc.status_code, exc.message)
        details = exc.body.get("details") if isinstance(exc.body, dict) else None
        fields = [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []
        return None, fields, exc.message, exc.status_code


def _context(defs: dict[str, Any], raw: dict[str, Any], result: dict[str, Any] | None,
             field_errors: list[dict[str, str]], error: str | None) -> dict[str, Any]:
    filters = defs.get("filters", [])
    applied = result["meta"]["filters"] if result else {}
    tablero = _tablero()
    query = filters_to_query(filters, raw) + ([("tablero", str(tablero))] if tablero else [])
    return {
        "filters": filters,
        "filter_problems": defs.get("errors", []),
        "state": panel_state(filters, applied if result else as_applied(filters, raw)),
        "widgets": result["widgets"] if result else [],
        "meta": result["meta"] if result else None,
        "field_errors": field_errors,
        "run_error": error,
        "query": urlencode(query),
        "tablero": tablero,
        "identity": current_identity(),
        "drill_filters": drill_filters(filters),
        "panel_fields": panel_fields(filters),
    }


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The dashboard; filter state in the query string reproduces the same widgets. Opened bare,
    it goes to the user's start view if they chose one."""
    views = saved_views.menu()
    if not request.args and views["start_view_id"]:
        return redirect(url_for("saved_views.open_view", view_id=views["start_view_id"]))
    token = engine_token()
    defs = _definitions(token)
    raw = form_to_filters(defs.get("filters", []), request.args)
    result, field_errors, error, _status = _run(token, raw)
    dashboards = call_engine("GET", DASHBOARDS_PATH, token=token)
    return render_template("dashboard.html", dashboards=dashboards, **views,
                           **_context(defs, raw, result, field_errors, error))


@bp.post("/dashboard/apply")
@login_required
@dashboard_run_limit()
def apply() -> ResponseReturnValue:
    """HTMX: run with the posted filters; 422 with the field messages when they are invalid."""
    token = engine_token()
    fields = kept_fields(request.form)
    defs = {"filters": fields} if fields is not None else _definitions(token)
    raw = form_to_filters(defs.get("filters", []), request.form)
    result, field_errors, error, status = _run(token, raw)
    return render_template("partials/_results.html",
                           **_context(defs, raw, result, field_errors, error)), status


@bp.get("/dashboard/filters")
@login_required
def filters() -> ResponseReturnValue:
    """The tenant's filter definitions (JSON), as the engine describes them."""
    return jsonify(_definitions(engine_token()))


@bp.app_template_filter("number")
def number(value: Any, decimals: int | None = 0) -> str:
    """A number in the page's locale with fixed decimals (12.345,6 in Spanish)."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern)
