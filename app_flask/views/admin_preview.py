"""POST /admin/filtros/vista-previa (HTMX): the filter being edited, as users will see it.

The row form posts its fields here whenever they change; the engine builds the filter exactly
as the dashboard will (POST /api/v1/admin/filters/preview) and the answer is rendered with the
dashboard's own filter templates, or the reason it would not load. Nothing is saved.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from app_flask.admin_forms import form_config
from app_flask.dashboard_form import panel_state
from app_flask.engine_client import call_engine
from app_flask.errors import EngineError
from app_flask.login_session import admin_required

bp = Blueprint("admin_preview", __name__, url_prefix="/admin")


@bp.post("/filtros/vista-previa")
@admin_required
def filter_preview() -> ResponseReturnValue:
    """The preview block: the filter's fieldset, or why it would not load (always 200 for HTMX)."""
    form = request.form
    classes = {c["name"]: c for c in call_engine("GET", "/api/v1/admin/classes")["filters"]}
    chosen = classes.get(form.get("class_name", ""))
    config, problem = form_config(chosen["schema"] if chosen else {}, form)
    definition = None
    if problem is None:
        row_id = form.get("id", type=int)
        body = {"class_name": form.get("class_name", "")[:64],
                "param_name": form.get("param_name", "").strip(),
                "label": form.get("label", "").strip(), "config": config,
                **({"id": row_id} if row_id and row_id > 0 else {})}
        try:
            definition = call_engine("POST", "/api/v1/admin/filters/preview", json=body)
        except EngineError as exc:
            if exc.status_code != 422:
                raise
            details = exc.body.get("details")
            first = details[0] if isinstance(details, list) and details else {}
            problem = str((first.get("message") if isinstance(first, dict) else None) or exc.message)
    state = panel_state([definition], {})[definition["param"]] if definition else None
    return render_template("admin/_filter_preview.html", f=definition, st=state, problem=problem)
