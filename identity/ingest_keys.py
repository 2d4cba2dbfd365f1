"""Per-gateway API keys of the ingestion API: scoped to one tenant and a set of lines.

A key is `cmt_` + 43 random URL-safe characters (256 bits), shown once at creation. The central
table keeps only HMAC-SHA256(server secret, key): the key is random, so a slow password hash
(Argon2) would add ~100 ms and 64 MiB to every batch without making guessing any harder, and a
keyed hash means a leaked table alone cannot even confirm a key. Lookup is one unique-index probe.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from core.db import DatabaseManager
from core.errors import AuthError, Conflict, NotFound, ValidationFailed
from core.schema_central import ingest_keys, tenants
from core.settings import Settings
from identity.audit import record, utcnow

KEY_PREFIX = "cmt_"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
INVALID_KEY = "clave de ingesta inválida o revocada"


@dataclass(frozen=True)
class IngestKey:
    """A key's public record (never the key or its hash)."""

    id: int
    tenant_id: int
    tenant: str
    name: str
    line_codes: tuple[str, ...]
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    batches: int
    rows_inserted: int

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of the admin API."""
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() + "Z" if value else None

        return {"id": self.id, "name": self.name, "lines": list(self.line_codes), "prefix": self.prefix,
                "created_at": iso(self.created_at), "last_used_at": iso(self.last_used_at),
                "revoked_at": iso(self.revoked_at), "batches": self.batches,
                "rows_inserted": self.rows_inserted}


def key_hash(settings: Settings, key: str) -> str:
    """HMAC-SHA256 of a key under a secret derived from the installation's secret key."""
    secret = hmac.new(settings.secret("secret_key").encode(), b"camet-ingest-keys", hashlib.sha256).digest()
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def _key(row: Row) -> IngestKey:
    return IngestKey(row.id, row.tenant_id, row.slug, row.name, tuple(row.line_codes or ()), row.prefix,
                     row.created_at, row.last_used_at, row.revoked_at, int(row.batches or 0),
                     int(row.rows_inserted or 0))


def _select():  # noqa: ANN202 - a Select builder
    return select(ingest_keys, tenants.c.slug).join(tenants, tenants.c.id == ingest_keys.c.tenant_id)


def _tenant_id(conn: Connection, slug: str) -> int:
    tid = conn.execute(select(tenants.c.id).where(tenants.c.slug == slug)).scalar()
    if tid is None:
        raise NotFound(f"unknown tenant {slug!r}")
    return int(tid)


def create_key(db: DatabaseManager, settings: Settings, *, tenant: str, name: str, lines: list[str],
               known_lines: set[str], actor: str | None = None) -> tuple[IngestKey, str]:
    """A new key for `lines` of `tenant`; returns its record and the key (shown once)."""
    if not NAME_RE.match(name or ""):
        raise ValidationFailed("el nombre debe tener 1-64 letras, números, '.', '_' o '-'")
    codes = sorted({c.strip() for c in lines if c.strip()})
    unknown = [c for c in codes if c not in known_lines]
    if not codes or unknown:
        raise ValidationFailed(f"líneas desconocidas o vacías: {', '.join(unknown) or '(ninguna)'}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        with db.central() as conn:
            tid = _tenant_id(conn, tenant)
            key_id = conn.execute(insert(ingest_keys).values(
                tenant_id=tid, name=name, line_codes=codes, key_hash=key_hash(settings, key),
                prefix=key[:10], created_at=utcnow(), batches=0, rows_inserted=0,
            )).inserted_primary_key[0]
            record(conn, action="ingest_key_created", tenant_id=tid, username=actor,
                   detail={"key_id": key_id, "name": name, "lines": codes})
    except IntegrityError:
        raise Conflict(f"ya existe una clave llamada {name!r}") from None
    return get_key(db, tenant=tenant, key_id=key_id), key


def get_key(db: DatabaseManager, *, tenant: str, key_id: int) -> IngestKey:
    """One key of this tenant, or NotFound (another tenant's id is simply unknown)."""
    with db.central() as conn:
        row = conn.execute(_select().where(ingest_keys.c.id == key_id, tenants.c.slug == tenant)).first()
    if row is None:
        raise NotFound("clave de ingesta desconocida")
    return _key(row)


def find_key(db: DatabaseManager, *, tenant: str, name: str) -> IngestKey:
    """A key of this tenant by name, or NotFound."""
    with db.central() as conn:
        row = conn.execute(_select().where(ingest_keys.c.name == name, tenants.c.slug == tenant)).first()
    if row is None:
        raise NotFound(f"no hay una clave {name!r} en {tenant!r}")
    return _key(row)


def list_keys(db: DatabaseManager, *, tenant: str) -> list[IngestKey]:
    """Every key of a tenant, revoked ones included, oldest first."""
    with db.central() as conn:
        rows = conn.execute(_select().where(tenants.c.slug == tenant).order_by(ingest_keys.c.id)).all()
    return [_key(r) for r in rows]


def revoke_key(db: DatabaseManager, *, tenant: str, key_id: int, actor: str | None = None) -> IngestKey:
    """Revoke a key for good (idempotent); its next batch gets 401."""
    key = get_key(db, tenant=tenant, key_id=key_id)
    if key.revoked_at is None:
        with db.central() as conn:
            conn.execute(update(ingest_keys).where(ingest_keys.c.id == key.id).values(revoked_at=utcnow()))
            record(conn, action="ingest_key_revoked", tenant_id=key.tenant_id, username=actor,
                   detail={"key_id": key.id, "name": key.name})
    return get_key(db, tenant=tenant, key_id=key_id)


def rotate_key(db: DatabaseManager, settings: Settings, *, tenant: str, key_id: int,
               actor: str | None = None) -> tuple[IngestKey, str]:
    """A new secret for an existing key (same name and lines, un-revoked); the old one stops working."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    old = get_key(db, tenant=tenant, key_id=key_id)
    with db.central() as conn:
        conn.execute(update(ingest_keys).where(ingest_keys.c.id == old.id).values(
            key_hash=key_hash(settings, key), prefix=key[:10], revoked_at=None))
        record(conn, action="ingest_key_rotated", tenant_id=old.tenant_id, username=actor,
               detail={"key_id": old.id, "name": old.name})
    return get_key(db, tenant=tenant, key_id=key_id), key


def verify_key(db: DatabaseManager, settings: Settings, key: str) -> IngestKey:
    """The active key record of a presented key; anything else is one AuthError (401)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 128:
        raise AuthError(INVALID_KEY)
    with db.central() as conn:
        row = conn.execute(_select().where(ingest_keys.c.key_hash == key_hash(settings, key),
                                           tenants.c.active.is_(True))).first()
    if row is None or row.revoked_at is not None:
        raise AuthError(INVALID_KEY)
    return _key(row)


def record_use(db: DatabaseManager, key: IngestKey, *, rows_inserted: int) -> None:
    """Count one accepted batch on the key row (last use, batches, rows): traceable, no log flood."""
    with db.central() as conn:
        conn.execute(update(ingest_keys).where(ingest_keys.c.id == key.id).values(
            last_used_at=utcnow(), batches=ingest_keys.c.batches + 1,
            rows_inserted=ingest_keys.c.rows_inserted + rows_inserted,
        ))
