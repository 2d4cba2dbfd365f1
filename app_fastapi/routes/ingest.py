"""POST /ingest/detections: line gateways push detections with a per-gateway API key.

Not a JWT route: the caller is an `IngestKey` (header `Authorization: Bearer cmt_...` or
`X-Api-Key`), scoped to one tenant and a set of lines. Order of checks, cheapest first: key
(401), rate limit per key (429), Content-Length over CAMET_INGEST_MAX_BYTES (413, before a
byte of the body is read), body read with the same cap, row count over CAMET_INGEST_MAX_ROWS
(413, NDJSON/CSV counted by newlines before parsing), then parse, validate and write.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app_fastapi.deps import RuntimeDep
from core.errors import AuthError, Forbidden, ImportRejected, PayloadTooLarge
from core.plausibility import Plausibility
from core.runtime import Runtime
from identity.ingest_keys import IngestKey, record_use, verify_key
from identity.ratelimit import limiter_for
from identity.request_limits import declared_length
from ingest.batch import count_rows, parse_batch, write_batch

router = APIRouter(tags=["ingest"])

# The body, for the OpenAPI document: the route reads it raw (JSON, NDJSON or CSV by Content-Type),
# so FastAPI cannot derive it. Cells are text or numbers; each row is checked like a CSV row.
_CELL = {"type": ["string", "number", "null"]}
_DETECTION = {
    "type": "object", "required": ["ts", "product_code", "status"],
    "properties": {
        "line": {**_CELL, "description": "line code; may be left out with ?line= or a batch `line`"},
        "ts": {**_CELL, "description": "ISO 8601; without an offset, plant local time",
               "examples": ["2026-11-18T15:30:00.250"]},
        "product_code": {**_CELL, "examples": ["PF-045"]},
        "weight_g": {**_CELL, "examples": [45.3]},
        "status": {**_CELL, "description": "ok or reject", "examples": ["ok"]},
    },
}
_BATCH = {
    "type": "object", "required": ["detections"],
    "properties": {
        "batch_id": {"type": ["string", "number", "null"], "description": "the gateway's id (64 chars kept)"},
        "tenant": {"type": ["string", "null"], "description": "must be the key's tenant if given"},
        "line": {"type": ["string", "null"], "description": "line of rows that name none"},
        "detections": {"type": "array", "items": _DETECTION},
    },
}
INGEST_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"oneOf": [_BATCH, {"type": "array", "items": _DETECTION}]},
                         "example": {"batch_id": "gw1-000123", "detections": [
                             {"line": "L1", "ts": "2026-11-18T15:30:00.250", "product_code": "PF-045",
                              "weight_g": 45.3, "status": "ok"}]}},
    "application/x-ndjson": {"schema": {"type": "string", "description": "one detection object per line"}},
    "text/csv": {"schema": {"type": "string", "description": "header line,ts,product_code,weight_g,status"}},
}}}


class IngestResult(BaseModel):
    batch_id: str | None
    rows_received: int
    rows_inserted: int
    rows_duplicate: int
    lines: dict[str, int]


def presented_key(request: Request) -> str | None:
    """The key from `Authorization: Bearer cmt_...` or `X-Api-Key`."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return (request.headers.get("x-api-key") or "").strip() or None


def ingest_key_principal(request: Request, rt: RuntimeDep) -> IngestKey:
    """401 unless the request carries an active ingest key; 429 over the key's rate."""
    key = presented_key(request)
    if not key:
        raise AuthError("missing ingest key (Authorization: Bearer cmt_... or X-Api-Key)")
    record = verify_key(rt.db, rt.settings, key)
    limiter_for(rt).hit(rt.settings.ingest_rate_per_key, "ingest-key", str(record.id))
    return record


IngestKeyPrincipal = Annotated[IngestKey, Depends(ingest_key_principal)]


def _too_large(what: str, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"lote demasiado grande: más de {limit:,} {what}", details={"limit": limit})


async def _read_capped(request: Request, max_bytes: int) -> bytes:
    """The body, refusing as soon as it passes `max_bytes` (chunked bodies have no length)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large("bytes", max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _ingest(rt: Runtime, key: IngestKey, raw: bytes, media_type: str, line: str | None,
            timings: dict[str, float]) -> IngestResult:
    t0 = time.perf_counter()
    meta = rt.meta.get(key.tenant)
    frame, batch_id, tenant = parse_batch(raw, media_type, default_line=line)
    if tenant is not None and tenant != key.tenant:
        raise Forbidden("la clave pertenece a otra empresa: no puede escribir en ésta")
    if len(frame) > rt.settings.ingest_max_rows:
        raise _too_large("filas", rt.settings.ingest_max_rows)
    t1 = time.perf_counter()
    window = Plausibility.of(rt.settings).window(meta, rt.clock)
    result = write_batch(rt.db, meta, frame, allowed=set(key.line_codes), window=window, batch_id=batch_id)
    t2 = time.perf_counter()
    record_use(rt.db, key, rows_inserted=result.rows_inserted)
    timings.update(parse=t1 - t0, write=t2 - t1, trace=time.perf_counter() - t2)
    return IngestResult(batch_id=result.batch_id, rows_received=result.rows_received,
                        rows_inserted=result.rows_inserted, rows_duplicate=result.rows_duplicate,
                        lines=result.by_line)


@router.post("/ingest/detections", response_model=IngestResult, openapi_extra=INGEST_BODY,
             responses={401: {"description": "missing, unknown or revoked key"},
                        403: {"description": "a line or tenant outside the key's scope"},
                        413: {"description": "body or row count over the limits"},
                        422: {"description": "bad rows (named; a timestamp outside the tenant's "
                                                 "accepted range names it); nothing was written"},
                        429: {"description": "too many batches for this key"}})
async def ingest_detections(request: Request, response: Response, key: IngestKeyPrincipal, rt: RuntimeDep,
                            line: str | None = Query(None, max_length=32,
                                                     description="line of rows that name none")
                            ) -> IngestResult:
    """Write one batch (JSON, NDJSON or CSV by Content-Type) in one transaction; resends add 0."""
    max_bytes = rt.settings.ingest_max_bytes
    try:
        length = declared_length(request.headers.get("content-length"))
    except ValueError:
        raise ImportRejected("invalid Content-Length") from None
    if length is not None and length > max_bytes:
        raise _too_large("bytes", max_bytes)
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    raw = await _read_capped(request, max_bytes)
    rows = count_rows(raw, media_type)
    if rows is not None and rows > rt.settings.ingest_max_rows:
        raise _too_large("filas", rt.settings.ingest_max_rows)
    timings: dict[str, float] = {}
    result = await run_in_threadpool(_ingest, rt, key, raw, media_type, line, timings)
    response.headers["Server-Timing"] = ", ".join(f"{k};dur={v * 1000:.1f}" for k, v in timings.items())
    return result
