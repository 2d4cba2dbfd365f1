"""Blueprint "saved_views": saved views of the dashboard's filters, through the engine API.

POST /vistas                    save the applied filters (the dashboard URL's query string) by name
GET  /vistas/<id>               open: redirect to the dashboard URL of its filters; a view that no
                                longer validates opens the dashboard with the defaults and a notice
POST /vistas/<id>/inicio        open this view at `/`;  POST /vistas/inicio/quitar: stop doing so
POST /vistas/<id>/borrar        delete (its owner; shared ones: an admin)

The header menu (templates/_saved_views_menu.html) lists the views; `menu` gives its data.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, redirect, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from app_flask.dashboard_form import filters_to_query, form_to_filters
from app_flask.engine_client import call_engine
from app_flask.errors import EngineError
from app_flask.login_session import current_identity, login_required
from identity.request_limits import MAX_DB_INT

bp = Blueprint("saved_views", __name__, url_prefix="/vistas")
VIEWS_PATH = "/api/v1/views"
MAX_QUERY = 16 * 1024
MAX_QUERY_FIELDS = 2000


def _definitions() -> list[dict[str, Any]]:
    return call_engine("GET", "/api/v1/filters").get("filters", [])


def _dashboard_url(filters: dict[str, Any], layout_id: int | None, view_id: int,
                   **extra: str) -> str:
    query = filters_to_query(_definitions(), filters)
    query += [("tablero", str(layout_id))] if layout_id else []
    query += [("vista", str(view_id)), *extra.items()]
    return url_for("dashboard.index") + "?" + urlencode(query)


@bp.post("")
@login_required
def save() -> ResponseReturnValue:
    """Save the filters of the dashboard URL being shown (`consulta`) under `nombre`."""
    pairs = parse_qsl(request.form.get("consulta", "")[:MAX_QUERY], max_num_fields=MAX_QUERY_FIELDS)
    query = MultiDict(pairs)
    tablero = query.get("tablero", "")
    ident = current_identity()
    body = {
        "name": request.form.get("nombre", ""),
        "filters": form_to_filters(_definitions(), query),
        "layout_id": int(tablero) if tablero.isdigit() and 0 < int(tablero) <= MAX_DB_INT else None,
        "shared": bool(request.form.get("compartida")) and bool(ident and ident.is_admin),
    }
    view = call_engine("POST", VIEWS_PATH, json=body)
    return redirect(url_for("saved_views.open_view", view_id=view["id"]))


@bp.get("/<int:view_id>")
@login_required
def open_view(view_id: int) -> ResponseReturnValue:
    """The dashboard with the view's filters (or the defaults and a notice when they no longer validate)."""
    view = call_engine("GET", f"{VIEWS_PATH}/{view_id}")
    if not view["valid"]:
        return redirect(_dashboard_url({}, None, view_id, vista_invalida="1"))
    return redirect(_dashboard_url(view["filters"], view["layout_id"], view_id))


@bp.post("/<int:view_id>/inicio")
@login_required
def set_start(view_id: int) -> ResponseReturnValue:
    """Open this view whenever `/` is opened."""
    call_engine("PUT", f"{VIEWS_PATH}/{view_id}/start")
    return redirect(url_for("saved_views.open_view", view_id=view_id))


@bp.post("/inicio/quitar")
@login_required
def clear_start() -> ResponseReturnValue:
    """`/` opens the dashboard with its default filters again."""
    call_engine("DELETE", f"{VIEWS_PATH}/start")
    return redirect(url_for("dashboard.index", predeterminado="1"))


@bp.post("/<int:view_id>/borrar")
@login_required
def remove(view_id: int) -> ResponseReturnValue:
    """Delete the view and go back to the dashboard."""
    call_engine("DELETE", f"{VIEWS_PATH}/{view_id}")
    return redirect(url_for("dashboard.index", predeterminado="1"))


def menu() -> dict[str, Any]:
    """The header menu: the views, the start view (opened when `/` comes without any query),
    the view open now and why it did not apply."""
    data = call_engine("GET", VIEWS_PATH)
    current = request.args.get("vista", "")
    current_id = int(current) if current.isdigit() and 0 < int(current) <= MAX_DB_INT else None
    notice = None
    if current_id and request.args.get("vista_invalida"):
        try:
            view = call_engine("GET", f"{VIEWS_PATH}/{current_id}")
        except EngineError:
            view = None
        if view and not view["valid"]:
            reasons = "; ".join(str(p.get("message", "")) for p in view["problems"])
            notice = (f"La vista «{view['name']}» ya no es válida con los filtros actuales ({reasons}); "
                      "se abrió el tablero con los valores por defecto.")
    return {"saved_views": data["views"], "start_view_id": data.get("start_id"),
            "current_view_id": current_id, "view_notice": notice}
