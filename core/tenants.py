"""Tenant life cycle: register a tenant centrally and create/initialise its own database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import make_url

from core import migrations
from core.db import DatabaseManager, build_engine, is_mysql, parse_db_url
from core.errors import DatabaseConfigError, ValidationFailed
from core.schema_central import tenants

SLUG_RE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


@dataclass(frozen=True)
class Tenant:
    id: int
    slug: str
    name: str
    db_url: str
    timezone: str


def validate_slug(slug: str) -> str:
    """Slugs name databases and files, so they are strictly lower-case identifiers."""
    if not SLUG_RE.match(slug or ""):
        raise ValidationFailed(
            f"invalid tenant slug {slug!r}: 2-32 chars, lower-case letters, digits, underscore"
        )
    return slug


def validate_timezone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown timezone {tz!r} (use an IANA name like Europe/Madrid)") from None
    return tz


def default_tenant_url(db: DatabaseManager, slug: str) -> str:
    """Next to the central DB: a SQLite file in var/, or a database on the same MySQL server."""
    central = db.central_url
    if is_mysql(central):
        return central.set(database=f"{central.database}_{slug}").render_as_string(hide_password=False)
    return f"sqlite:///{db.settings.var_dir / f'tenant_{slug}.db'}"


def ensure_database(url: str) -> None:
    """Create the MySQL database named by `url` if missing (SQLite files appear on connect)."""
    parsed = parse_db_url(url)
    if not is_mysql(parsed):
        return
    name = parsed.database
    if not re.match(r"^[A-Za-z0-9_]{1,64}$", name or ""):
        raise DatabaseConfigError(f"database name {name!r} must be letters, digits and underscores")
    server = build_engine(parsed.set(database="mysql"))
    try:
        with server.begin() as conn:
            conn.execute(text(
                f"CREATE DATABASE IF NOT EXISTS `{name}` "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            ))
    finally:
        server.dispose()


def get_tenant(db: DatabaseManager, slug: str) -> Tenant | None:
    with db.central() as conn:
        row = conn.execute(select(tenants).where(tenants.c.slug == slug)).first()
    return Tenant(row.id, row.slug, row.name, row.db_url, row.timezone) if row else None


def create_tenant(
    db: DatabaseManager,
    slug: str,
    *,
    name: str,
    db_url: str | None = None,
    timezone: str | None = None,
) -> Tenant:
    """Create or update a tenant and bring its database to the latest schema (idempotent)."""
    validate_slug(slug)
    tz = validate_timezone(timezone or db.settings.default_timezone)
    if not name or len(name) > 200:
        raise ValidationFailed("tenant name must be 1-200 characters")
    url = db_url or default_tenant_url(db, slug)
    parse_db_url(url)
    make_url(url)
    ensure_database(url)
    migrations.upgrade_tenant(db.engine_for(url))
    with db.central() as conn:
        existing = conn.execute(select(tenants.c.id).where(tenants.c.slug == slug)).scalar()
        values = {"name": name, "db_url": url, "timezone": tz, "active": True}
        if existing is None:
            conn.execute(insert(tenants).values(slug=slug, created_at=datetime.now(), **values))
        else:
            conn.execute(update(tenants).where(tenants.c.id == existing).values(**values))
    db.forget_tenant(slug)
    tenant = get_tenant(db, slug)
    assert tenant is not None
    return tenant


def list_tenants(db: DatabaseManager) -> list[Tenant]:
    with db.central() as conn:
        rows = conn.execute(select(tenants).order_by(tenants.c.slug)).all()
    return [Tenant(r.id, r.slug, r.name, r.db_url, r.timezone) for r in rows]
