"""Browser uploads of a line's detections CSV: the `csv_uploads` record and its background import.

The engine streams the upload to a file under `var/uploads`, records it as `queued` and hands
`run_upload` to a background thread. The import is the command-line one (ingest/csv_import.py):
the same validation, all or nothing. Progress, the outcome and the bad rows (with their file
line numbers, in Spanish) are written to the central `csv_uploads` row, which every process
can read; the file is deleted when the import ends either way. An admin may ask for an older
history start (`history_from`, stated with its cost on the form), exactly like the command
line's `--allow-history-from`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from core.disk_errors import describe, disk_fault
from core.errors import ImportRejected, InsufficientStorage
from core.outage_log import OutageLog
from core.plausibility import Plausibility
from core.runtime import Runtime
from core.schema_central import csv_uploads
from ingest.csv_import import import_detections

log = logging.getLogger(__name__)

# The command-line import's English messages, as the admin reads them in the browser.
_SPANISH = (
    (re.compile(r"^line (\d+): "), r"línea \1: "),
    (re.compile(r"^row (\d+): "), r"fila \1: "),
    (re.compile(r"expected (\d+) fields, found (\d+)"), r"se esperaban \1 campos y hay \2"),
    (re.compile(r"ts is not an ISO 8601 date-time"), "ts no es una fecha-hora ISO 8601"),
    (re.compile(r"ts year outside (\d+)-(\d+)"), r"el año de ts está fuera de \1-\2"),
    (re.compile(r"ts before the plant's history start \(accepted range ([^)]*)\)"),
     r"ts anterior al inicio del historial de la planta (rango aceptado \1)"),
    (re.compile(r"ts in the future \(accepted range ([^)]*)\)"), r"ts en el futuro (rango aceptado \1)"),
    (re.compile(r"unknown product_code"), "product_code desconocido"),
    (re.compile(r"weight_g is not a number"), "weight_g no es un número"),
    (re.compile(r"weight_g is negative or too large"), "weight_g es negativo o demasiado grande"),
    (re.compile(r"status must be ok or reject"), "status debe ser ok o reject"),
    (re.compile(r"^\.\.\. (\d+) more bad rows$"), r"... y \1 filas con errores más"),
    (re.compile(r"^the file is not UTF-8 text \(byte (\d+)\)$"), r"el archivo no es texto UTF-8 (byte \1)"),
    (re.compile(r"^the file is empty$"), "el archivo está vacío"),
    (re.compile(r"^missing column\(s\) ([^:]+): .*$"),
     r"faltan columnas (\1): la cabecera debe incluir ts, product_code, weight_g y status"),
    (re.compile(r"^malformed CSV at line (\d+): .*$"), r"CSV mal formado en la línea \1"),
)


def in_spanish(message: str) -> str:
    """One import message in Spanish (unknown phrases are kept as they are)."""
    for pattern, replacement in _SPANISH:
        message = pattern.sub(replacement, message)
    return message


@dataclass(frozen=True)
class UploadState:
    """What the progress page shows of one upload."""

    id: int
    user_id: int | None
    line_code: str
    filename: str
    size_bytes: int
    status: str
    rows_total: int
    rows_done: int
    rows_inserted: int
    message: str | None
    bad_rows: list[str]
    created_at: datetime
    finished_at: datetime | None

    @property
    def percent(self) -> int:
        """0-100: rows written of the valid rows (100 once done)."""
        if self.status == "done":
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


def _now(rt: Runtime) -> datetime:
    return rt.clock.now_utc().replace(tzinfo=None, microsecond=0)


def upload_dir(rt: Runtime) -> Path:
    """Where uploads wait for their import (created on first use, private to the app)."""
    path = rt.settings.var_dir / "uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


_DISK_MESSAGES = {
    "full": "no hay espacio en disco para la importación: avisá al administrador del sistema",
    "not_writable": "el disco de importaciones no admite escritura (solo lectura o sin permisos): "
                    "avisá al administrador del sistema",
    "other": "no se pudo guardar el archivo en el disco del servidor: avisá al administrador del sistema",
}


def _disk_outage(rt: Runtime) -> OutageLog:
    return rt.part("upload-disk", lambda: OutageLog(log, f"uploads: {rt.settings.var_dir / 'uploads'}"))


def disk_refusal(rt: Runtime, exc: OSError) -> InsufficientStorage:
    """The admin-facing refusal of an upload the disk could not take; the cause is logged once
    per outage."""
    _disk_outage(rt).failed(f"cannot store uploads: {describe(exc)}",
                            "uploads are refused with 507 until the disk takes writes again")
    return InsufficientStorage(_DISK_MESSAGES[disk_fault(exc)])


def disk_ok(rt: Runtime) -> None:
    """An upload was stored: ends a disk outage (logged once)."""
    _disk_outage(rt).ok()


def upload_path(rt: Runtime, upload_id: int) -> Path:
    """The stored file of one upload (named by its id: never by the client's file name)."""
    return upload_dir(rt) / f"upload-{int(upload_id)}.csv"


def create_upload(rt: Runtime, *, slug: str, line_code: str, filename: str, size_bytes: int,
                  user_id: int | None) -> int:
    """A `queued` record; the caller moves the file to `upload_path(id)` and starts the import."""
    with rt.db.central() as conn:
        return int(conn.execute(insert(csv_uploads).values(
            tenant_slug=slug, line_code=line_code, filename=filename[:255], size_bytes=size_bytes,
            user_id=user_id, status="queued", rows_total=0, rows_done=0, rows_inserted=0,
            created_at=_now(rt),
        )).inserted_primary_key[0])


def _state(row: Any) -> UploadState:  # noqa: ANN401 - a Row
    return UploadState(row.id, row.user_id, row.line_code, row.filename, int(row.size_bytes), row.status,
                       int(row.rows_total), int(row.rows_done), int(row.rows_inserted), row.message,
                       list(row.bad_rows or []), row.created_at, row.finished_at)


def get_upload(rt: Runtime, slug: str, upload_id: int) -> UploadState | None:
    """One upload of this tenant (None for another tenant's id)."""
    u = csv_uploads.c
    with rt.db.central() as conn:
        row = conn.execute(select(csv_uploads).where(u.id == upload_id, u.tenant_slug == slug)).first()
    return _state(row) if row is not None else None


def recent_uploads(rt: Runtime, slug: str, limit: int = 20) -> list[UploadState]:
    """This tenant's latest uploads, newest first."""
    u = csv_uploads.c
    with rt.db.central() as conn:
        rows = conn.execute(select(csv_uploads).where(u.tenant_slug == slug)
                            .order_by(u.id.desc()).limit(limit)).all()
    return [_state(r) for r in rows]


def _set(rt: Runtime, upload_id: int, **values: Any) -> None:  # noqa: ANN401
    with rt.db.central() as conn:
        conn.execute(update(csv_uploads).where(csv_uploads.c.id == upload_id).values(**values))


OLD_ROWS_HINT = (" Las filas anteriores al inicio del historial de la planta se importan marcando "
                 "«Importar historial desde» con una fecha.")


def run_upload(rt: Runtime, slug: str, upload_id: int, *,
               history_from: date | None = None) -> UploadState | None:
    """Import one queued upload (background thread); returns its final state (None: not queued)."""
    state = get_upload(rt, slug, upload_id)
    if state is None or state.status != "queued":
        return None
    path = upload_path(rt, upload_id)
    _set(rt, upload_id, status="running")
    outcome: dict[str, Any]
    try:
        meta = rt.meta.get(slug)
        result = import_detections(
            rt.db, meta, state.line_code, path, clock=rt.clock,
            on_rows=lambda done, total: _set(rt, upload_id, rows_done=done, rows_total=total),
            plausibility=Plausibility.of(rt.settings), history_from=history_from)
        message = (f"{result.rows_inserted} filas importadas" +
                   (f"; {result.rows_duplicate} ya estaban" if result.rows_duplicate else "") +
                   (f"; el historial de la planta empieza ahora el {result.history_start.isoformat()}"
                    if result.history_start else ""))
        outcome = {"status": "done", "rows_inserted": result.rows_inserted, "message": message}
    except ImportRejected as exc:
        bad = [in_spanish(str(m)) for m in (exc.details if isinstance(exc.details, list) else [])]
        message = (f"{len(bad)} filas con errores: no se importó nada." if bad
                   else f"Archivo rechazado: {in_spanish(exc.message)}. No se importó nada.")
        if any("anterior al inicio del historial" in b for b in bad):
            message += OLD_ROWS_HINT
        outcome = {"status": "rejected", "message": message, "bad_rows": bad}
    except Exception:  # the record must end; the log keeps the cause
        log.exception("upload %s of tenant %s failed", upload_id, slug)
        outcome = {"status": "error", "message": "Error interno al importar: no se importó nada."}
    finally:
        path.unlink(missing_ok=True)
    _set(rt, upload_id, finished_at=_now(rt), **outcome)
    return get_upload(rt, slug, upload_id)
