"""Users of a tenant: creation, passwords, authentication with lockout, admin edits.

Every function takes the tenant slug and scopes its SQL to that tenant's id, so a caller can
never reach another tenant's user by id. Authentication failures of any kind (unknown tenant,
unknown user, wrong password, inactive, locked) raise the same AuthError message after the
same amount of Argon2 work.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from core import schema_tenant
from core.db import DatabaseManager, transaction
from core.errors import AuthError, CametError, Conflict, NotFound, ValidationFailed
from core.schema_central import tenants, users
from core.settings import Settings
from core.tenant_slugs import normalize_tenant_slug
from core.usernames import normalize_username
from identity import lockout
from identity.audit import record, utcnow
from identity.passwords import MAX_LOGIN_LENGTH, burn_verify, hash_password, needs_rehash, verify_password

ROLES = ("viewer", "supervisor", "admin")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
log = logging.getLogger(__name__)
LOGIN_FAILED = "Usuario o contraseña incorrectos, o cuenta bloqueada temporalmente."


@dataclass(frozen=True)
class User:
    id: int
    tenant_id: int
    tenant: str
    username: str
    role: str
    active: bool
    failed_attempts: int
    locked_until: datetime | None
    password_changed_at: datetime | None
    created_at: datetime
    password_tag: str = ""
    credential_version: int = 0

    def is_locked(self, now: datetime | None = None) -> bool:
        return lockout.is_locked(self.locked_until, now or utcnow())

    def to_dict(self) -> dict[str, object]:
        """Public fields for the admin API (never the hash)."""
        return {
            "id": self.id, "username": self.username, "role": self.role, "active": self.active,
            "locked": self.is_locked(),
            "locked_until": self.locked_until.isoformat() + "Z" if self.is_locked() else None,
            "created_at": self.created_at.isoformat() + "Z",
        }


_COLUMNS = (users.c.id, users.c.tenant_id, tenants.c.slug, users.c.username, users.c.role,
            users.c.active, users.c.failed_attempts, users.c.locked_until,
            users.c.password_changed_at, users.c.created_at, users.c.password_hash,
            users.c.credential_version)


def _user(row: Row) -> User:
    tag = hashlib.sha256(row.password_hash.encode()).hexdigest()[:16]
    return User(row.id, row.tenant_id, row.slug, row.username, row.role, bool(row.active),
                row.failed_attempts, row.locked_until, row.password_changed_at, row.created_at, tag,
                int(row.credential_version or 0))


def _select():  # noqa: ANN202 - a Select builder
    return select(*_COLUMNS).join(tenants, tenants.c.id == users.c.tenant_id)


def validate_username(username: str) -> str:
    """The normalised name (NFC, trimmed, case-folded) when it is a valid one."""
    username = normalize_username(username) if isinstance(username, str) else ""
    if not USERNAME_RE.match(username):
        raise ValidationFailed(
            "nombre de usuario inválido: 1-64 letras, dígitos o . _ @ -",
            details=[{"field": "username", "message": "1-64 letras, dígitos o . _ @ -"}],
        )
    return username


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationFailed(f"rol inválido {role!r}: viewer, supervisor o admin",
                               details=[{"field": "role", "message": "viewer, supervisor o admin"}])
    return role


def tenant_id(conn: Connection, slug: str) -> int:
    """The id of an active tenant, NotFound otherwise."""
    tid = conn.execute(select(tenants.c.id).where(tenants.c.slug == slug,
                                                  tenants.c.active.is_(True))).scalar()
    if tid is None:
        raise NotFound(f"unknown tenant {slug!r}")
    return int(tid)


def create_user(db: DatabaseManager, *, tenant: str, username: str, password: str, role: str,
                actor: str | None = None, ip: str | None = None) -> int:
    """Create a user of `tenant`; a duplicate username is a 422, not an integrity crash."""
    username = validate_username(username)
    validate_role(role)
    password_hash = hash_password(password)
    now = utcnow()
    with db.central() as conn:
        tid = tenant_id(conn, tenant)
        exists = conn.execute(select(users.c.id).where(users.c.tenant_id == tid,
                                                       users.c.username == username)).first()
        if exists is not None:
            raise Conflict(f"el usuario {username!r} ya existe",
                           details=[{"field": "username", "message": "ya existe"}])
        try:
            user_id = conn.execute(insert(users).values(
                tenant_id=tid, username=username, password_hash=password_hash, role=role,
                active=True, failed_attempts=0, password_changed_at=now, created_at=now,
            )).inserted_primary_key[0]
        except IntegrityError:
            raise Conflict(f"el usuario {username!r} ya existe") from None
        record(conn, action="user_created", tenant_id=tid, user_id=user_id, username=actor or username,
               ip=ip, detail={"username": username, "role": role})
    return int(user_id)


def get_user(db: DatabaseManager, *, tenant: str, user_id: int) -> User | None:
    """One user of `tenant` by id (None when absent or of another tenant)."""
    with db.central() as conn:
        row = conn.execute(_select().where(users.c.id == user_id, tenants.c.slug == tenant)).first()
    return _user(row) if row else None


def find_user(db: DatabaseManager, *, tenant: str, username: str) -> User | None:
    username = normalize_username(username)
    with db.central() as conn:
        row = conn.execute(_select().where(users.c.username == username, tenants.c.slug == tenant)).first()
    return _user(row) if row else None


def list_users(db: DatabaseManager, *, tenant: str) -> list[User]:
    with db.central() as conn:
        rows = conn.execute(_select().where(tenants.c.slug == tenant).order_by(users.c.username)).all()
    return [_user(r) for r in rows]


def active_user(db: DatabaseManager, *, user_id: int, tenant: str) -> User | None:
    """The user if it still exists in an active tenant, is active and not locked; else None."""
    with db.central() as conn:
        row = conn.execute(
            select(*_COLUMNS).join(tenants, tenants.c.id == users.c.tenant_id)
            .where(users.c.id == user_id, tenants.c.slug == tenant, tenants.c.active.is_(True))
        ).first()
    if row is None:
        return None
    user = _user(row)
    return user if user.active and not user.is_locked() else None


def _require(conn: Connection, tenant: str, username: str) -> Row:
    username = normalize_username(username)
    row = conn.execute(_select().where(users.c.username == username, tenants.c.slug == tenant)).first()
    if row is None:
        raise NotFound(f"unknown user {username!r} in tenant {tenant!r}")
    return row


def set_password(db: DatabaseManager, *, tenant: str, username: str, password: str,
                 actor: str | None = None, ip: str | None = None) -> None:
    """Replace a user's password (operator or admin path; no old password needed)."""
    new_hash = hash_password(password)
    with db.central() as conn:
        row = _require(conn, tenant, username)
        conn.execute(update(users).where(users.c.id == row.id)
                     .values(password_hash=new_hash, password_changed_at=utcnow(),
                             credential_version=users.c.credential_version + 1))
        record(conn, action="password_changed", tenant_id=row.tenant_id, user_id=row.id,
               username=actor or username, ip=ip, detail={"username": username, "by": actor or "operator"})


def change_password(db: DatabaseManager, *, tenant: str, user_id: int, current: str, new: str,
                    ip: str | None = None) -> None:
    """The user's own change: the current password must match (else 422, nothing changed)."""
    user = get_user(db, tenant=tenant, user_id=user_id)
    if user is None:
        raise NotFound("unknown user")
    with db.central() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.id == user_id)).scalar()
    if not verify_password(stored or "", current or ""):
        raise ValidationFailed("la contraseña actual no es correcta",
                               details=[{"field": "current", "message": "no es correcta"}])
    if new == current:
        raise ValidationFailed("la nueva contraseña debe ser distinta de la actual",
                               details=[{"field": "new", "message": "igual a la actual"}])
    set_password(db, tenant=tenant, username=user.username, password=new, actor=user.username, ip=ip)


def authenticate(db: DatabaseManager, settings: Settings, *, tenant: str, username: str,
                 password: str, ip: str | None = None) -> User:
    """The user when the credentials are right and the account usable; one AuthError otherwise."""
    tenant = normalize_tenant_slug(tenant)
    username = normalize_username(username)[:64]
    password = password or ""
    too_long = len(password) > MAX_LOGIN_LENGTH
    with db.central() as conn:
        row = conn.execute(_select().where(users.c.username == username, tenants.c.slug == tenant,
                                           tenants.c.active.is_(True))).first()
        tid = row.tenant_id if row else conn.execute(
            select(tenants.c.id).where(tenants.c.slug == tenant)).scalar()
    if row is None or too_long:
        burn_verify(password)  # one verification on every path, over-long passwords included
        matches = False
    else:
        matches = verify_password(row.password_hash, password)
    user_id = row.id if row else 0
    now = utcnow()
    with db.central() as conn:
        # The same statements run for an unknown user (on id 0, matching nothing), so the
        # database work, like the Argon2 work, does not tell the two cases apart.
        fresh = conn.execute(select(users.c.locked_until, users.c.active)
                             .where(users.c.id == user_id)).first()
        audit = {"tenant_id": tid, "user_id": row.id if row else None, "username": username, "ip": ip}
        if row is None or fresh is None or not fresh.active:
            lockout.register_failure(conn, 0, threshold=settings.lockout_threshold,
                                     minutes=settings.lockout_minutes, now=now)
            reason = "unknown_user" if row is None else "inactive"
            record(conn, action="login_failed", detail={"reason": reason}, **audit)
        elif lockout.is_locked(fresh.locked_until, now):
            record(conn, action="login_locked", detail={"locked_until": fresh.locked_until.isoformat() + "Z"},
                   **audit)
        elif not matches:
            locked_now = lockout.register_failure(conn, row.id, threshold=settings.lockout_threshold,
                                                  minutes=settings.lockout_minutes, now=now)
            record(conn, action="login_failed", detail={"reason": "bad_password"}, **audit)
            if locked_now:
                record(conn, action="lockout", detail={"minutes": settings.lockout_minutes}, **audit)
        else:
            lockout.reset(conn, row.id)
            if needs_rehash(row.password_hash):
                conn.execute(update(users).where(users.c.id == row.id)
                             .values(password_hash=hash_password(password)))
                row = conn.execute(_select().where(users.c.id == row.id)).first()
            record(conn, action="login_ok", **audit)
            return _user(row)
    raise AuthError(LOGIN_FAILED)


def unlock_user(db: DatabaseManager, *, tenant: str, username: str, actor: str | None = None,
                ip: str | None = None) -> None:
    """Lift a lockout now (admin or operator) instead of waiting for its expiry."""
    with db.central() as conn:
        row = _require(conn, tenant, username)
        lockout.reset(conn, row.id)
        record(conn, action="user_unlocked", tenant_id=row.tenant_id, user_id=row.id,
               username=actor or username, ip=ip, detail={"username": username})


LAST_ADMIN = "no se puede quitar el último administrador del cliente"


@contextmanager
def _users_of_tenant_locked(db: DatabaseManager, tenant: str) -> Iterator[tuple[Connection, int]]:
    """One central transaction during which no other one opened here changes `tenant`'s users.

    Checking "another active admin remains" and then writing is only safe when no concurrent
    change can slip between the two. MySQL: the transaction's first statement locks the
    tenant's row (SELECT … FOR UPDATE), so it waits for the other change to commit and every
    later read sees it. SQLite: the transaction starts with the database's write lock
    (BEGIN IMMEDIATE, see core.db).
    """
    engine = db.central_engine.execution_options(sqlite_begin="IMMEDIATE")
    with transaction(engine) as conn:
        tid = conn.execute(select(tenants.c.id).where(tenants.c.slug == tenant).with_for_update()).scalar()
        if tid is None:
            raise NotFound("unknown user")
        yield conn, int(tid)


def _require_another_admin(conn: Connection, tid: int, user_id: int) -> None:
    """409 when no active admin of the tenant other than `user_id` remains."""
    others = conn.execute(select(func.count()).select_from(users).where(
        users.c.tenant_id == tid, users.c.role == "admin", users.c.active.is_(True), users.c.id != user_id,
    )).scalar()
    if not others:
        raise Conflict(LAST_ADMIN)


def _tenant_user(conn: Connection, tid: int, user_id: int) -> User:
    row = conn.execute(_select().where(users.c.id == user_id, users.c.tenant_id == tid)).first()
    if row is None:
        raise NotFound("unknown user")
    return _user(row)


def update_user(db: DatabaseManager, *, tenant: str, user_id: int, role: str | None = None,
                active: bool | None = None, actor: str | None = None, ip: str | None = None,
                keep_an_admin: bool = True) -> User:
    """Change role and/or active flag of one user of `tenant` (404 for other tenants' ids).

    With `keep_an_admin` (the admin API), a change that would leave the tenant without an
    active admin is a 409, also when two admins demote each other at the same moment."""
    values: dict[str, object] = {}
    if role is not None:
        values["role"] = validate_role(role)
    if active is not None:
        values["active"] = bool(active)
    with _users_of_tenant_locked(db, tenant) as (conn, tid):
        user = _tenant_user(conn, tid, user_id)
        stays_admin = values.get("role", user.role) == "admin" and values.get("active", user.active)
        if keep_an_admin and user.role == "admin" and user.active and not stays_admin:
            _require_another_admin(conn, tid, user.id)
        if values:
            changes = dict(values)
            if values.get("role", user.role) != user.role or values.get("active", user.active) != user.active:
                changes["credential_version"] = users.c.credential_version + 1
            conn.execute(update(users).where(users.c.id == user.id).values(**changes))
            record(conn, action="user_updated", tenant_id=user.tenant_id, user_id=user.id,
                   username=actor, ip=ip, detail={"username": user.username, **values})
    updated = get_user(db, tenant=tenant, user_id=user_id)
    assert updated is not None
    return updated


def delete_user(db: DatabaseManager, *, tenant: str, user_id: int, actor: str | None = None,
                ip: str | None = None, keep_an_admin: bool = True) -> None:
    """Remove one user of `tenant`; its tokens and sessions stop working at their next use,
    and its private saved views go with it (shared ones stay the tenant's).
    With `keep_an_admin`, deleting the tenant's last active admin is a 409."""
    with _users_of_tenant_locked(db, tenant) as (conn, tid):
        user = _tenant_user(conn, tid, user_id)
        if keep_an_admin and user.role == "admin" and user.active:
            _require_another_admin(conn, tid, user.id)
        conn.execute(delete(users).where(users.c.id == user.id))
        record(conn, action="user_deleted", tenant_id=user.tenant_id, user_id=user.id,
               username=actor, ip=ip, detail={"username": user.username})
    _delete_private_views(db, tenant, user.id)


def _delete_private_views(db: DatabaseManager, tenant: str, user_id: int) -> None:
    """Drop a deleted user's private views and start view from the tenant database.

    Best effort after the user is gone: ids are never reused, so rows left behind by an
    unreachable tenant database are unreachable too, and only logged."""
    views, starts = schema_tenant.saved_views, schema_tenant.saved_view_starts
    mine = (views.c.owner_id == user_id) & views.c.shared.is_(False)
    try:
        with db.tenant(tenant) as conn:
            of_mine = starts.c.view_id.in_(select(views.c.id).where(mine))
            conn.execute(delete(starts).where(or_(starts.c.user_id == user_id, of_mine)))
            conn.execute(delete(views).where(mine))
    except (CametError, SQLAlchemyError) as exc:
        log.warning("private saved views of deleted user %s of tenant %s left in place: %s",
                    user_id, tenant, exc)
