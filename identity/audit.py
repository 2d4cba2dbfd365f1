"""Audit log: who did what, in which tenant, from which IP, when (central `audit_log` table)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, cast, insert, or_, select
from sqlalchemy.engine import Connection

from core.db import DatabaseManager
from core.schema_central import audit_log

ACTIONS = (
    "login_ok", "login_failed", "login_locked", "lockout", "logout", "token_issued",
    "password_changed", "user_created", "user_updated", "user_deleted", "user_unlocked", "admin_edit",
    "ingest_key_created", "ingest_key_revoked", "ingest_key_rotated",
)


@dataclass(frozen=True)
class AuditEvent:
    id: int
    ts: datetime
    user_id: int | None
    username: str | None
    action: str
    detail: Any
    ip: str | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ts"] = self.ts.isoformat() + "Z"
        return data


def utcnow() -> datetime:
    """Naive UTC, as every DATETIME column of the central database stores it."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def record(
    conn: Connection,
    *,
    action: str,
    tenant_id: int | None,
    user_id: int | None = None,
    username: str | None = None,
    ip: str | None = None,
    detail: Any = None,
) -> None:
    """Append one event inside the caller's transaction (so it commits with the change)."""
    conn.execute(insert(audit_log).values(
        ts=utcnow(), tenant_id=tenant_id, user_id=user_id, username=(username or None) and username[:64],
        action=action[:64], detail=detail, ip=(ip or None) and ip[:64],
    ))


def list_events(db: DatabaseManager, *, tenant_id: int, limit: int = 100,
                before_id: int | None = None, search: str | None = None) -> list[AuditEvent]:
    """The newest events of one tenant, newest first; `before_id` pages backwards; `search`
    keeps the events whose user, action or detail contain it (case-insensitive)."""
    stmt = select(audit_log).where(audit_log.c.tenant_id == tenant_id)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(*(column.ilike(pattern, escape="\\") for column in (
            audit_log.c.username, audit_log.c.action, cast(audit_log.c.detail, String)))))
    if before_id is not None:
        stmt = stmt.where(audit_log.c.id < before_id)
    stmt = stmt.order_by(audit_log.c.id.desc()).limit(max(1, min(limit, 500)))
    with db.central() as conn:
        rows = conn.execute(stmt).all()
    return [AuditEvent(r.id, r.ts, r.user_id, r.username, r.action, r.detail, r.ip) for r in rows]
