"""Blueprint "admin": the tenant's filters and widget catalog, edited through the engine API.

/admin                         index of the console
/admin/<tipo>                  rows of `Filters` (tipo=filtros) or `Widget_catalog` (widgets)
/admin/<tipo>/nuevo, /<id>     the row form: class <select>, config form from the JSON schema
/admin/<tipo>/<id>/mover       up/down (keyboard accessible), /activo enable/disable, /borrar

Every change is a POST with CSRF and goes through the engine, which validates and audits it;
its refusal message is shown next to the form, and nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app_flask.admin_forms import form_config, schema_fields
from app_flask.engine_client import call_engine
from app_flask.errors import EngineError
from app_flask.login_session import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
ROW_KINDS = "filtros, widgets"


@dataclass(frozen=True)
class RowKind:
    """What differs between the filter rows and the widget catalog pages."""

    api: str
    classes_key: str
    title: str
    singular: str
    text_fields: tuple[tuple[str, str], ...]  # (row key, Spanish label)


KINDS = {
    "filtros": RowKind("/api/v1/admin/filters", "filters", "Filtros", "filtro",
                       (("label", "Etiqueta"), ("param_name", "Parámetro (minúsculas, dígitos y _)"))),
    "widgets": RowKind("/api/v1/admin/widgets", "widgets", "Widgets", "widget", (("title", "Título"),)),
}


@bp.get("")
@admin_required
def index() -> ResponseReturnValue:
    """The console's entry page."""
    return render_template("admin/index.html")


@bp.get("/<any(" + ROW_KINDS + "):tipo>")
@admin_required
def rows(tipo: str) -> ResponseReturnValue:
    """The rows in display order, with their problems, and the actions on each."""
    return render_template("admin/rows.html", tipo=tipo, kind=KINDS[tipo],
                           rows=call_engine("GET", KINDS[tipo].api), error=request.args.get("error"))


def _classes(kind: RowKind) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in call_engine("GET", "/api/v1/admin/classes")[kind.classes_key]}


def _form_page(tipo: str, row: dict[str, Any], *, error: str | None = None,
               field_errors: list[dict[str, Any]] | None = None, status: int = 200) -> ResponseReturnValue:
    kind = KINDS[tipo]
    classes = _classes(kind)
    chosen = classes.get(row.get("class_name") or "") or next(iter(classes.values()), None)
    fields = schema_fields(chosen["schema"], row.get("config")) if chosen else []
    return render_template("admin/row_form.html", tipo=tipo, kind=kind, row=row, classes=classes,
                           chosen=chosen, fields=fields, error=error, field_errors=field_errors or [],
                           ), status


@bp.get("/<any(" + ROW_KINDS + "):tipo>/nuevo")
@admin_required
def new(tipo: str) -> ResponseReturnValue:
    """An empty form; `?clase=` picks the class whose config fields are shown."""
    return _form_page(tipo, {"class_name": request.args.get("clase", ""), "config": {}, "active": True})


@bp.get("/<any(" + ROW_KINDS + "):tipo>/<int:row_id>")
@admin_required
def edit(tipo: str, row_id: int) -> ResponseReturnValue:
    """The form of one row; `?clase=` switches the class being edited."""
    row = next((r for r in call_engine("GET", KINDS[tipo].api) if r["id"] == row_id), None)
    if row is None:
        return render_template("errors/error.html", status=404, message="La fila no existe."), 404
    if request.args.get("clase"):
        row = {**row, "class_name": request.args["clase"]}
    return _form_page(tipo, row)


@bp.post("/<any(" + ROW_KINDS + "):tipo>/guardar")
@admin_required
def save(tipo: str) -> ResponseReturnValue:
    """Create (no id) or update a row; the engine's refusal is shown next to the form."""
    kind = KINDS[tipo]
    form = request.form
    row_id = form.get("id", type=int)
    body: dict[str, Any] = {key: form.get(key, "").strip() for key, _label in kind.text_fields}
    body["class_name"] = form.get("class_name", "")
    body["active"] = bool(form.get("active"))
    chosen = _classes(kind).get(body["class_name"])
    config, problem = form_config(chosen["schema"] if chosen else {}, form)
    echo = {**body, "id": row_id, "config": config if config is not None else {}}
    if problem:
        return _form_page(tipo, echo, error=problem, status=422)
    body["config"] = config
    try:
        if row_id:
            call_engine("PATCH", f"{kind.api}/{row_id}", json=body)
        else:
            call_engine("POST", kind.api, json=body)
    except EngineError as exc:
        if exc.status_code not in (404, 409, 422):
            raise
        details = exc.body.get("details") if isinstance(exc.body.get("details"), list) else []
        return _form_page(tipo, echo, error=exc.message, field_errors=details, status=exc.status_code)
    return redirect(url_for("admin.rows", tipo=tipo))


def _after_action(tipo: str, call: tuple[str, str, dict[str, Any] | None]) -> ResponseReturnValue:
    method, path, body = call
    try:
        call_engine(method, path, json=body)
    except EngineError as exc:
        if exc.status_code not in (404, 409, 422):
            raise
        return redirect(url_for("admin.rows", tipo=tipo, error=exc.message))
    return redirect(url_for("admin.rows", tipo=tipo))


@bp.post("/<any(" + ROW_KINDS + "):tipo>/<int:row_id>/mover")
@admin_required
def move(tipo: str, row_id: int) -> ResponseReturnValue:
    """Move a row one place up or down (`direccion=arriba|abajo`)."""
    ids = [r["id"] for r in call_engine("GET", KINDS[tipo].api)]
    if row_id in ids:
        i = ids.index(row_id)
        j = i - 1 if request.form.get("direccion") == "arriba" else i + 1
        if 0 <= j < len(ids):
            ids[i], ids[j] = ids[j], ids[i]
    return _after_action(tipo, ("POST", f"{KINDS[tipo].api}/order", {"ids": ids}))


@bp.post("/<any(" + ROW_KINDS + "):tipo>/<int:row_id>/activo")
@admin_required
def toggle(tipo: str, row_id: int) -> ResponseReturnValue:
    """Enable (`activo=1`) or disable a row."""
    active = request.form.get("activo") == "1"
    return _after_action(tipo, ("PATCH", f"{KINDS[tipo].api}/{row_id}", {"active": active}))


@bp.post("/<any(" + ROW_KINDS + "):tipo>/<int:row_id>/borrar")
@admin_required
def remove(tipo: str, row_id: int) -> ResponseReturnValue:
    """Delete a row (the engine refuses rows others depend on, or placed on a dashboard)."""
    return _after_action(tipo, ("DELETE", f"{KINDS[tipo].api}/{row_id}", None))
