"""Admin API: upload a line's detections CSV and follow its background import.

POST /admin/uploads?line=L1&filename=x.csv[&history_from=YYYY-MM-DD]   body: the CSV (text/csv),
    streamed to disk and capped at CAMET_UPLOAD_MAX_BYTES (413 from its Content-Length, or as
    soon as the streamed bytes pass it); 202 with the upload's id, while a background thread
    imports it with the command-line import's validation (all or nothing). `history_from` is
    the command line's --allow-history-from: rows before the plant's history start are
    accepted from that date on (audited with the upload).
GET  /admin/uploads/{id}   status, progress and the bad rows (file line numbers) of one upload
GET  /admin/uploads        this tenant's latest uploads
The upload and its outcome are both audited.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app_fastapi.api_times import UtcTime
from app_fastapi.background import background
from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep, client_ip
from core.clock import plant_today
from core.errors import NotFound, PayloadTooLarge, ValidationFailed
from core.metadata_cache import TenantMeta
from core.runtime import Runtime
from identity.audit import record
from identity.engine_tokens import Principal
from identity.users import tenant_id
from ingest.csv_import import MIN_YEAR, REQUIRED, missing_columns
from ingest.upload_import import (
    UploadState,
    create_upload,
    disk_ok,
    disk_refusal,
    get_upload,
    recent_uploads,
    run_upload,
    upload_dir,
    upload_path,
)

router = APIRouter(prefix="/admin/uploads", tags=["admin"])
CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}}


class UploadOut(BaseModel):
    id: int
    line_code: str
    filename: str
    size_bytes: int
    status: str = Field(description="queued, running, done, rejected (nothing imported) or error")
    percent: int = Field(description="rows written of the valid rows, 0-100")
    rows_total: int
    rows_done: int
    rows_inserted: int
    message: str | None
    bad_rows: list[str] = Field(description="«línea N: motivo» per bad row (at most 200 and a count)")
    created_at: UtcTime
    finished_at: UtcTime | None


def _out(state: UploadState) -> UploadOut:
    return UploadOut(**{k: getattr(state, k) for k in UploadOut.model_fields if k != "percent"},
                     percent=state.percent)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"el archivo supera el máximo de {limit // (1024 * 1024)} MiB",
                          details={"limit": limit})


async def _stream_to_disk(rt: Runtime, request: Request) -> tuple[str, int]:
    """The body in a private temporary file, refused past the size limit; (path, bytes).
    A disk that is full or refuses writes gives a 507 that says so, and no file is left."""
    limit = rt.settings.upload_max_bytes
    try:
        fd, path = tempfile.mkstemp(prefix="incoming-", suffix=".csv", dir=upload_dir(rt))
    except OSError as exc:
        raise disk_refusal(rt, exc) from None
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                out.write(chunk)
    except OSError as exc:
        os.unlink(path)
        raise disk_refusal(rt, exc) from None
    except BaseException:
        os.unlink(path)
        raise
    disk_ok(rt)
    return path, size


def _import_and_audit(rt: Runtime, slug: str, upload_id: int, history_from: date | None) -> None:
    """The background half: import, then record the outcome in the audit log."""
    final = run_upload(rt, slug, upload_id, history_from=history_from)
    if final is None:
        return
    with rt.db.central() as conn:
        record(conn, action="admin_edit", tenant_id=tenant_id(conn, slug), user_id=final.user_id,
               detail={"what": "csv_import", "op": final.status, "id": upload_id, "before": None,
                       "after": {"line": final.line_code, "filename": final.filename,
                                 "rows_inserted": final.rows_inserted, "message": final.message}})


def _today(rt: Runtime, meta: TenantMeta) -> date:
    return plant_today(rt.clock, meta.timezone)


def _register(rt: Runtime, principal: Principal, ip: str, line: str, filename: str, size: int,
              incoming: str, history_from: date | None) -> UploadState:
    meta = rt.meta.get(principal.tenant)
    if line not in meta.lines_by_code:
        raise ValidationFailed(f"la línea «{line}» no existe",
                               details=[{"field": "line", "message": "línea desconocida"}])
    if history_from is not None and not (MIN_YEAR <= history_from.year and history_from <= _today(rt, meta)):
        raise ValidationFailed(f"la fecha de inicio del historial debe estar entre {MIN_YEAR}-01-01 y hoy",
                               details=[{"field": "history_from", "message": "fecha fuera de rango"}])
    if size == 0:
        raise ValidationFailed("el archivo está vacío", details=[{"field": "body", "message": "vacío"}])
    with open(incoming, "rb") as head:
        first_line = head.readline(64 * 1024).decode("utf-8", errors="replace")
    missing = missing_columns(first_line)
    if missing:
        raise ValidationFailed(
            f"la primera línea debe ser la cabecera con {', '.join(REQUIRED)}; faltan {', '.join(missing)}",
            details=[{"field": "body", "message": "cabecera incompleta"}])
    upload_id = create_upload(rt, slug=principal.tenant, line_code=line, filename=filename,
                              size_bytes=size, user_id=principal.user_id)
    os.replace(incoming, upload_path(rt, upload_id))
    with rt.db.central() as conn:
        record(conn, action="admin_edit", tenant_id=tenant_id(conn, principal.tenant),
               user_id=principal.user_id, username=principal.username, ip=ip,
               detail={"what": "csv_upload", "op": "create", "id": upload_id, "before": None,
                       "after": {"line": line, "filename": filename, "size_bytes": size,
                                 "history_from": history_from.isoformat() if history_from else None}})
    background(rt).submit(_import_and_audit, rt, principal.tenant, upload_id, history_from)
    state = get_upload(rt, principal.tenant, upload_id)
    assert state is not None
    return state


@router.post("", response_model=UploadOut, status_code=202, openapi_extra=CSV_BODY,
             responses={413: {"description": "file over CAMET_UPLOAD_MAX_BYTES"},
                        422: {"description": "unknown line, empty file or a header without the columns"},
                        507: {"description": "the server's disk is full or refuses writes"}})
async def upload(request: Request, principal: AdminPrincipal, rt: RuntimeDep,
                 line: str = Query(min_length=1, max_length=32, description="the line's code"),
                 filename: str = Query("detecciones.csv", min_length=1, max_length=255),
                 history_from: date | None = Query(
                     None, description="accept rows from this date on, before the plant's history start: "
                     "the history start moves back to the earliest row, gap analysis and rollups redo "
                     "those dates, partitions are made for their months")) -> UploadOut:
    """Store the CSV and start its import in the background; poll GET /admin/uploads/{id}."""
    length = request.headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > rt.settings.upload_max_bytes:
        raise _too_large(rt.settings.upload_max_bytes)
    incoming, size = await _stream_to_disk(rt, request)
    try:
        state = await run_in_threadpool(_register, rt, principal, client_ip(request), line,
                                        os.path.basename(filename), size, incoming, history_from)
    finally:
        if os.path.exists(incoming):
            os.unlink(incoming)
    return _out(state)


@router.get("/{upload_id}", response_model=UploadOut)
def status(upload_id: RowId, principal: AdminPrincipal, rt: RuntimeDep) -> UploadOut:
    """One upload of the caller's tenant: progress while it runs, the bad rows when refused."""
    state = get_upload(rt, principal.tenant, upload_id)
    if state is None:
        raise NotFound(f"la importación {upload_id} no existe")
    return _out(state)


@router.get("", response_model=list[UploadOut])
def listing(principal: AdminPrincipal, rt: RuntimeDep,
            limit: int = Query(20, ge=1, le=100)) -> list[UploadOut]:
    """The caller's tenant's latest uploads, newest first."""
    return [_out(s) for s in recent_uploads(rt, principal.tenant, limit)]
