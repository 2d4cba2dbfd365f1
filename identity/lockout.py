"""Account lockout kept in the central database, so it holds across processes and restarts.

`failed_attempts` grows atomically in SQL; the update that reaches the threshold sets
`locked_until` and resets the counter, so after the lock expires the user has a fresh budget.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from core.schema_central import users


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    """A lock is in force until its time passes; expiry needs no job."""
    return locked_until is not None and locked_until > now


def register_failure(conn: Connection, user_id: int, *, threshold: int, minutes: int,
                     now: datetime) -> bool:
    """Count one failed attempt; True when this attempt locked the account."""
    conn.execute(update(users).where(users.c.id == user_id)
                 .values(failed_attempts=users.c.failed_attempts + 1))
    result = conn.execute(
        update(users)
        .where(users.c.id == user_id, users.c.failed_attempts >= threshold)
        .values(failed_attempts=0, locked_until=now + timedelta(minutes=minutes))
    )
    return result.rowcount > 0


def reset(conn: Connection, user_id: int) -> None:
    """Forget failures and any lock (successful login or admin unlock)."""
    conn.execute(update(users).where(users.c.id == user_id)
                 .values(failed_attempts=0, locked_until=None))


def failed_attempts(conn: Connection, user_id: int) -> int:
    return int(conn.execute(select(users.c.failed_attempts).where(users.c.id == user_id)).scalar() or 0)
