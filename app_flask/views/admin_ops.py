"""Blueprint "admin_ops": the operations page and the CSV import, through the engine API.

/admin/operaciones            job runs (status, duration, errors) and "Ejecutar ahora", partitions
                              per line table, rows that fail to load, data freshness per line
/admin/operaciones/ejecutar   POST: run a job now (the engine runs it in the background)
/admin/importar               GET the upload form; POST a detections CSV (multipart, spooled to
                              disk by Werkzeug, streamed on to the engine; its own body limit)
/admin/importar/<id>          the import's progress page; /estado is the partial HTMX polls
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage

from app_flask.engine_client import call_engine
from app_flask.errors import EngineError
from app_flask.login_session import admin_required, runtime

bp = Blueprint("admin_ops", __name__, url_prefix="/admin")
MIB = 1024 * 1024
CHUNK = 256 * 1024
FINISHED = ("done", "rejected", "error")


UNKNOWN_JOB = "Ese trabajo no existe."


@bp.get("/operaciones")
@admin_required
def operations() -> ResponseReturnValue:
    """Everything an admin checks when something looks wrong."""
    data = call_engine("GET", "/api/v1/admin/operations")
    started = request.args.get("ejecutado", "")
    known = {j["name"] for j in data["jobs"]}
    return render_template("admin/operations.html", ops=data, started=started if started in known else None,
                           error=request.args.get("error"))


def _unknown_job() -> ResponseReturnValue:
    data = call_engine("GET", "/api/v1/admin/operations")
    return render_template("admin/operations.html", ops=data, started=None, error=UNKNOWN_JOB), 422


@bp.post("/operaciones/ejecutar")
@admin_required
def run_job() -> ResponseReturnValue:
    """Start one job now; the page lists its run as soon as it begins.

    The engine URL is built only from a name the engine lists as a registered job, quoted as
    one path segment: a forged field (`../x`, `a/b`) is a 422, never another engine route."""
    name = request.form.get("trabajo", "")
    jobs = call_engine("GET", "/api/v1/admin/operations", params={"runs": 1})["jobs"]
    registered = {j["name"] for j in jobs}
    if name not in registered:
        return _unknown_job()
    try:
        call_engine("POST", f"/api/v1/admin/jobs/{quote(name, safe='')}/run")
    except EngineError as exc:
        if exc.status_code == 409:  # it is running right now
            return redirect(url_for("admin_ops.operations", error=exc.message))
        if exc.status_code not in (404, 422):
            raise
        return _unknown_job()
    return redirect(url_for("admin_ops.operations", ejecutado=name))


def _lines() -> list[dict[str, Any]]:
    return call_engine("GET", "/api/v1/admin/operations", params={"runs": 1})["freshness"]


def _upload_page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    uploads = call_engine("GET", "/api/v1/admin/uploads", params={"limit": 10})
    return render_template("admin/import.html", lines=_lines(), uploads=uploads, error=error,
                           max_mib=runtime().settings.upload_max_bytes // MIB), status


@bp.get("/importar")
@admin_required
def import_form() -> ResponseReturnValue:
    """Pick a line and a CSV file; the latest imports are listed below."""
    return _upload_page()


def _chunks(file: FileStorage) -> Iterator[bytes]:
    while chunk := file.stream.read(CHUNK):
        yield chunk


def _size(file: FileStorage) -> int:
    """Bytes of the spooled upload (sent as Content-Length: a WSGI engine reads no chunked body)."""
    file.stream.seek(0, 2)
    size = file.stream.tell()
    file.stream.seek(0)
    return size


@bp.post("/importar")
@admin_required
def upload() -> ResponseReturnValue:
    """Hand the file to the engine, which imports it in the background; show its progress."""
    file = request.files.get("archivo")
    line = request.form.get("linea", "")
    history_from = request.form.get("historial_desde", "").strip()
    if file is None or not file.filename:
        return _upload_page("Elegí un archivo CSV.", 422)
    params = {"line": line, "filename": file.filename[-255:]}
    if history_from:  # an explicit import of older history (the engine validates the date)
        params["history_from"] = history_from
    try:
        state = call_engine("POST", "/api/v1/admin/uploads", params=params,
                      content=_chunks(file),
                      headers={"Content-Type": "text/csv", "Content-Length": str(_size(file))})
    except EngineError as exc:
        if exc.status_code not in (413, 422, 507):  # 507: the server's disk, in the admin's words
            raise
        return _upload_page(exc.message[:1].upper() + exc.message[1:], exc.status_code)
    return redirect(url_for("admin_ops.progress", upload_id=state["id"]))


def _state(upload_id: int) -> dict[str, Any]:
    return call_engine("GET", f"/api/v1/admin/uploads/{upload_id}")


@bp.get("/importar/<int:upload_id>")
@admin_required
def progress(upload_id: int) -> ResponseReturnValue:
    """The import's page: a progress bar that HTMX refreshes until the import ends."""
    return render_template("admin/import_progress.html", u=_state(upload_id), finished=FINISHED)


@bp.get("/importar/<int:upload_id>/estado")
@admin_required
def progress_partial(upload_id: int) -> ResponseReturnValue:
    """HTMX: the progress block alone (it stops polling once the import has ended)."""
    return render_template("admin/_import_state.html", u=_state(upload_id), finished=FINISHED)
