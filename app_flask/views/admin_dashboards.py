"""Blueprint "admin_dashboards": named dashboards and their layout editor, through the engine API.

The editor lists every catalog widget: the dashboard's own items first, in their order, then
the others unticked. Order is the order of the rows in the form (drag them with SortableJS, or
use the up/down buttons, which work from the keyboard); width per widget; a dashboard can be
made the default. The engine refuses items naming rows of another tenant or missing rows.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app_flask.engine_client import call_engine
from app_flask.errors import EngineError
from app_flask.login_session import admin_required

bp = Blueprint("admin_dashboards", __name__, url_prefix="/admin/tableros")
API = "/api/v1/admin/dashboards"


@bp.get("")
@admin_required
def list_dashboards() -> ResponseReturnValue:
    """Every dashboard, with edit, make-default and delete actions."""
    return render_template("admin/dashboards.html", dashboards=call_engine("GET", API),
                           error=request.args.get("error"))


def _editor_rows(items: list[dict[str, Any]], widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {w["id"]: w for w in widgets}
    placed = [{**by_id[i["widget_id"]], "w": i.get("w"), "included": True}
              for i in items if isinstance(i, dict) and i.get("widget_id") in by_id]
    placed_ids = {p["id"] for p in placed}
    return placed + [{**w, "w": None, "included": False} for w in widgets if w["id"] not in placed_ids]


def _editor(dashboard: dict[str, Any], *, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    rows = _editor_rows(dashboard.get("items") or [], call_engine("GET", "/api/v1/admin/widgets"))
    return render_template("admin/dashboard_form.html", dashboard=dashboard, rows=rows, error=error), status


@bp.get("/nuevo")
@admin_required
def new() -> ResponseReturnValue:
    """An empty dashboard in the editor."""
    return _editor({"id": None, "name": "", "is_default": False, "items": []})


@bp.get("/<int:layout_id>")
@admin_required
def edit(layout_id: int) -> ResponseReturnValue:
    """The layout editor of one dashboard."""
    return _editor(call_engine("GET", f"{API}/{layout_id}"))


def _posted_items() -> list[dict[str, int]]:
    """Ticked widgets in form order, each with its width (empty: the class's default)."""
    form = request.form
    included = set(form.getlist("incluir"))
    items = []
    for raw in form.getlist("widget_id"):
        if raw in included and raw.isdigit():
            item = {"widget_id": int(raw)}
            width = form.get(f"w_{raw}", "")
            if width.isdigit():
                item["w"] = int(width)
            items.append(item)
    return items


@bp.post("/guardar")
@admin_required
def save() -> ResponseReturnValue:
    """Create or replace a dashboard; the engine's refusal is shown in the editor."""
    layout_id = request.form.get("id", type=int)
    body = {"name": request.form.get("name", "").strip(), "is_default": bool(request.form.get("is_default")),
            "items": _posted_items()}
    try:
        if layout_id:
            saved = call_engine("PUT", f"{API}/{layout_id}", json=body)
        else:
            saved = call_engine("POST", API, json=body)
    except EngineError as exc:
        if exc.status_code not in (404, 409, 422):
            raise
        details = exc.body.get("details") if isinstance(exc.body.get("details"), list) else []
        message = "; ".join(d.get("message", "") for d in details if isinstance(d, dict)) or exc.message
        return _editor({**body, "id": layout_id}, error=message, status=exc.status_code)
    return redirect(url_for("admin_dashboards.edit", layout_id=saved["id"], guardado=1))


def _action(method: str, path: str) -> ResponseReturnValue:
    try:
        call_engine(method, path)
    except EngineError as exc:
        if exc.status_code not in (404, 409, 422):
            raise
        return redirect(url_for("admin_dashboards.list_dashboards", error=exc.message))
    return redirect(url_for("admin_dashboards.list_dashboards"))


@bp.post("/<int:layout_id>/predeterminado")
@admin_required
def make_default(layout_id: int) -> ResponseReturnValue:
    """Make this dashboard the one users see first."""
    return _action("POST", f"{API}/{layout_id}/default")


@bp.post("/<int:layout_id>/borrar")
@admin_required
def remove(layout_id: int) -> ResponseReturnValue:
    """Delete a dashboard (the engine keeps the last one)."""
    return _action("DELETE", f"{API}/{layout_id}")
