"""Shared plumbing of the admin API: one audited unit of work, row reading, reordering.

Every change an admin makes runs in `audited_change`: the tenant transaction (where the change
is validated and written) nested inside a central one (where the audit event is recorded), so a
refused change leaves both databases untouched and an accepted one is always audited with who,
what, before and after.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Request
from pydantic import BaseModel, Field
from sqlalchemy import Table, Text, select, type_coerce, update
from sqlalchemy.engine import Connection

from app_fastapi.deps import client_ip
from core.errors import Conflict, NotFound, ValidationFailed
from core.runtime import Runtime
from identity.audit import record
from identity.engine_tokens import Principal
from identity.request_limits import MAX_DB_INT
from identity.users import tenant_id


@dataclass
class Change:
    """What one admin change did, filled in by the route and written to the audit log."""

    what: str
    op: str = ""
    id: int | None = None
    before: Any = None
    after: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def done(self, op: str, row_id: int | None, before: Any = None, after: Any = None) -> None:  # noqa: ANN401
        """Say what happened (called by the route once the change is written)."""
        self.op, self.id, self.before, self.after = op, row_id, before, after


@contextmanager
def audited_change(rt: Runtime, principal: Principal, request: Request, what: str) -> Iterator[
        tuple[Connection, Change]]:
    """(tenant connection, Change): commit both the change and its audit event, or neither."""
    change = Change(what)
    with rt.db.central() as central:
        with rt.db.tenant(principal.tenant) as conn:
            yield conn, change
        detail = {"what": change.what, "op": change.op, "id": change.id, "before": change.before,
                  "after": change.after, **change.extra}
        record(central, action="admin_edit", tenant_id=tenant_id(central, principal.tenant),
               user_id=principal.user_id, username=principal.username, ip=client_ip(request),
               detail=detail)


def parse_config(raw: Any) -> Any:  # noqa: ANN401 - JSON
    """A stored config as JSON when it parses, else the raw text (so admins can see and fix it)."""
    if raw is None or not isinstance(raw, str | bytes):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def read_rows(conn: Connection, table: Table, row_id: int | None = None) -> list[dict[str, Any]]:
    """Rows of a catalog table in display order, config read as text and parsed defensively."""
    columns = [type_coerce(c, Text).label("config") if c.name == "config" else c for c in table.c]
    stmt = select(*columns).order_by(table.c.sort_order, table.c.id)
    if row_id is not None:
        stmt = stmt.where(table.c.id == row_id)
    out = []
    for r in conn.execute(stmt).mappings():
        row = dict(r)
        row["config"] = parse_config(row["config"])
        row["active"] = bool(row["active"])
        out.append(row)
    return out


def read_row(conn: Connection, table: Table, row_id: int, label: str) -> dict[str, Any]:
    """One row of the caller's tenant, or 404."""
    rows = read_rows(conn, table, row_id)
    if not rows:
        raise NotFound(f"{label} {row_id} no existe")
    return rows[0]


class OrderIn(BaseModel):
    """Every row id of the table, in the new display order."""

    ids: list[Annotated[int, Field(ge=1, le=MAX_DB_INT)]] = Field(max_length=1000)


def reorder(conn: Connection, table: Table, ids: list[int], change: Change) -> None:
    """Renumber sort_order 10, 20, ... in the given order; the ids must be exactly the table's.

    Any list of ids is well formed; whether it names each row once depends on the rows there are
    now, so a mismatch is a 409 (the table changed since the caller read it), not a 422.
    """
    before = [r.id for r in conn.execute(select(table.c.id).order_by(table.c.sort_order, table.c.id))]
    if sorted(ids) != sorted(before):
        raise clash("ids", "el orden debe nombrar cada fila exactamente una vez "
                           "(ids incompletos o repetidos)")
    for position, row_id in enumerate(ids, start=1):
        conn.execute(update(table).where(table.c.id == row_id).values(sort_order=position * 10))
    change.done("reorder", None, before, ids)


def refuse(field_name: str, message: str) -> ValidationFailed:
    """A 422 with one field message (the UI shows it next to the form)."""
    return ValidationFailed(message, details=[{"field": field_name, "message": message}])


def clash(field_name: str, message: str) -> Conflict:
    """A 409 with one field message: well-formed input that clashes with the rows there are now
    (a duplicate name, a row others depend on)."""
    return Conflict(message, details=[{"field": field_name, "message": message}])
