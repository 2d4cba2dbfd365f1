"""Ingest keys of the caller's tenant (admins only): list, create (key shown once), revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from app_fastapi.openapi_errors import conflict
from identity.ingest_keys import NAME_RE, IngestKey, create_key, list_keys, revoke_key

router = APIRouter(tags=["ingest"])


class IngestKeyOut(BaseModel):
    id: int
    name: str
    lines: list[str]
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    batches: int
    rows_inserted: int


class IngestKeyCreate(BaseModel):
    # The pattern is the schema's; create_key refuses other names with its Spanish message.
    name: str = Field(min_length=1, max_length=64, json_schema_extra={"pattern": NAME_RE.pattern})
    lines: list[Annotated[str, Field(min_length=1, max_length=32, pattern=r"\S",
                                     description="a line code of the caller's tenant")]] = Field(
        min_length=1, max_length=200)


class IngestKeyCreated(IngestKeyOut):
    key: str = Field(description="the API key; shown only in this answer")


def _out(key: IngestKey) -> IngestKeyOut:
    return IngestKeyOut(**key.to_dict())


@router.get("/ingest-keys", response_model=list[IngestKeyOut])
def keys(principal: AdminPrincipal, rt: RuntimeDep) -> list[IngestKeyOut]:
    """Every key of the caller's tenant, with last use and counters."""
    return [_out(k) for k in list_keys(rt.db, tenant=principal.tenant)]


@router.post("/ingest-keys", response_model=IngestKeyCreated, status_code=201,
             responses=conflict("a key with that name exists already"))
def create(body: IngestKeyCreate, principal: AdminPrincipal, rt: RuntimeDep) -> IngestKeyCreated:
    """A new gateway key for some of the tenant's lines."""
    known = set(rt.meta.get(principal.tenant).lines_by_code)
    record, key = create_key(rt.db, rt.settings, tenant=principal.tenant, name=body.name,
                             lines=body.lines, known_lines=known, actor=principal.username)
    return IngestKeyCreated(**record.to_dict(), key=key)


@router.post("/ingest-keys/{key_id}/revoke", response_model=IngestKeyOut)
def revoke(key_id: RowId, principal: AdminPrincipal, rt: RuntimeDep) -> IngestKeyOut:
    """Revoke one key of the caller's tenant; its next batch gets 401."""
    return _out(revoke_key(rt.db, tenant=principal.tenant, key_id=key_id, actor=principal.username))
