"""Blueprint "admin_plant": the plant's metadata edited in the browser, through the engine API.

/admin/planta                       lines, areas, products, shifts and closed days on one page
/admin/planta/<tipo>/nuevo, /<id>   the form of one entry (tipo: lineas, areas, productos, turnos,
                                    feriados, objetivos, motivos — closed days are added and
                                    deleted, not edited)
/admin/planta/<tipo>/guardar        create or update; the engine's refusal is shown in the form
/admin/planta/<tipo>/<id>/activo    activate/deactivate a line, product or stop reason (never deleted)
/admin/planta/<tipo>/<id>/borrar    delete an area, a shift, a closed day or a target
/admin/planta/historial             POST: the plant's start of history (empty: the rolling default)

The engine validates with the YAML loader's rules, audits, marks periods for re-analysis and
tells every worker's cache; this blueprint only turns forms into bodies and shows answers.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app_flask.engine_client import call_engine
from app_flask.errors import EngineError
from app_flask.login_session import admin_required
from app_flask.plant_forms import KINDS, WEEKDAYS, PlantKind, blank_rows, form_body

bp = Blueprint("admin_plant", __name__, url_prefix="/admin/planta")
ALL = ", ".join(KINDS)
EDITABLE = ", ".join(k for k, kind in KINDS.items() if kind.can_edit)
TOGGLE = ", ".join(k for k, kind in KINDS.items() if kind.can_toggle)
DELETABLE = ", ".join(k for k, kind in KINDS.items() if kind.can_delete)
HANDLED = (404, 409, 422)
SETTINGS_API = "/api/v1/admin/plant/settings"


def _rows(tipo: str) -> list[dict[str, Any]]:
    return call_engine("GET", KINDS[tipo].api)


@bp.get("")
@admin_required
def overview() -> ResponseReturnValue:
    """Every kind of entry in one page, with its actions."""
    rows = {tipo: _rows(tipo) for tipo in KINDS}
    return render_template("admin/plant.html", kinds=KINDS, rows=rows, weekdays=dict(WEEKDAYS),
                           plant_settings=call_engine("GET", SETTINGS_API),
                           error=request.args.get("error"), saved=request.args.get("guardado"))


@bp.post("/historial")
@admin_required
def history() -> ResponseReturnValue:
    """Set or clear the plant's start of history; the engine's refusal is shown on the page."""
    value = request.form.get("inicio", "").strip() or None
    try:
        call_engine("PUT", SETTINGS_API, json={"history_start": value})
    except EngineError as exc:
        if exc.status_code not in HANDLED:
            raise
        return redirect(url_for("admin_plant.overview", error=exc.message, _anchor="historial"))
    return redirect(url_for("admin_plant.overview", guardado="inicio del historial", _anchor="historial"))


def _problem(kind: PlantKind, detail: dict[str, Any]) -> str:
    """One engine field message with the field's Spanish label (none for the whole entry)."""
    where = str(detail.get("field") or "")
    message = str(detail.get("message", ""))
    return message if where in ("", "body") else f"{kind.label_of(where)}: {message}"


def _form(tipo: str, row: dict[str, Any], *, error: str | None = None,
          details: list[dict[str, Any]] | None = None, status: int = 200) -> ResponseReturnValue:
    kind = KINDS[tipo]
    options = {name: [r["code"] for r in _rows(tipo_)]
               for name, tipo_ in (("areas", "areas"), ("lines", "lineas"), ("shifts", "turnos"),
                                   ("products", "productos"))}
    problems = [_problem(kind, d) for d in details or [] if isinstance(d, dict)]
    return render_template("admin/plant_form.html", tipo=tipo, kind=kind, row=row, options=options,
                           weekdays=WEEKDAYS, breaks=blank_rows(row), error=error, problems=problems,
                           ), status


@bp.get("/<any(" + ALL + "):tipo>/nuevo")
@admin_required
def new(tipo: str) -> ResponseReturnValue:
    """An empty form (new lines and products start active; shifts on every weekday)."""
    return _form(tipo, {"active": True, "weekdays": [1, 2, 3, 4, 5, 6, 7], "lines": []})


@bp.get("/<any(" + EDITABLE + "):tipo>/<int:row_id>")
@admin_required
def edit(tipo: str, row_id: int) -> ResponseReturnValue:
    """The form of one stored entry."""
    row = next((r for r in _rows(tipo) if r["id"] == row_id), None)
    if row is None:
        return render_template("errors/error.html", status=404, message="La fila no existe."), 404
    return _form(tipo, row)


def _send(kind: PlantKind, row_id: int | None, body: dict[str, Any]) -> None:
    if row_id:
        call_engine("PUT", f"{kind.api}/{row_id}", json=body)
    else:
        call_engine("POST", kind.api, json=body)


@bp.post("/<any(" + ALL + "):tipo>/guardar")
@admin_required
def save(tipo: str) -> ResponseReturnValue:
    """Create (no id) or replace an entry; a refusal re-shows the form with the reasons."""
    kind = KINDS[tipo]
    row_id = request.form.get("id", type=int) if kind.can_edit else None
    body = form_body(kind, request.form)
    try:
        _send(kind, row_id, body)
    except EngineError as exc:
        if exc.status_code not in HANDLED:
            raise
        details = exc.body.get("details") if isinstance(exc.body.get("details"), list) else []
        return _form(tipo, {**body, "id": row_id}, error=exc.message, details=details, status=exc.status_code)
    return redirect(url_for("admin_plant.overview", guardado=kind.singular, _anchor=tipo))


def _after(call: tuple[str, str, dict[str, Any] | None], tipo: str) -> ResponseReturnValue:
    method, path, body = call
    try:
        call_engine(method, path, json=body)
    except EngineError as exc:
        if exc.status_code not in HANDLED:
            raise
        return redirect(url_for("admin_plant.overview", error=exc.message, _anchor=tipo))
    return redirect(url_for("admin_plant.overview", guardado=KINDS[tipo].singular, _anchor=tipo))


@bp.post("/<any(" + TOGGLE + "):tipo>/<int:row_id>/activo")
@admin_required
def toggle(tipo: str, row_id: int) -> ResponseReturnValue:
    """Activate (`activo=1`) or deactivate a line, product or reason: the stored entry, `active` changed."""
    row = next((r for r in _rows(tipo) if r["id"] == row_id), None)
    if row is None:
        return redirect(url_for("admin_plant.overview", error="La fila no existe.", _anchor=tipo))
    body = {k: v for k, v in row.items() if k != "id"} | {"active": request.form.get("activo") == "1"}
    return _after(("PUT", f"{KINDS[tipo].api}/{row_id}", body), tipo)


@bp.post("/<any(" + DELETABLE + "):tipo>/<int:row_id>/borrar")
@admin_required
def remove(tipo: str, row_id: int) -> ResponseReturnValue:
    """Delete an area (refused while lines use it), a shift, a closed day or a target."""
    return _after(("DELETE", f"{KINDS[tipo].api}/{row_id}", None), tipo)
