"""Plant settings that are not entries (tenant table `plant_settings`, key → text), and the
plant's start of history among them.

The history start bounds the timestamps writes accept and the detections the gap analysis
reads (core/plausibility.py), so changing it re-analyses every line's stops from the earlier
of the two starts. Shared by the plant YAML loader, the admin plant route and the CSV import's
explicit history option.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from core import schema_tenant as t
from core.metadata_cache import bump_metadata_version
from core.stops_state import FROM_START, mark_dirty

MIN_HISTORY_YEAR = 1970  # the first year the date filters can select


def history_from_1970(value: date | None) -> date | None:
    """Validator of a history start: the date filters cannot select years before 1970."""
    if value is not None and value.year < MIN_HISTORY_YEAR:
        raise ValueError(f"must be a date from {MIN_HISTORY_YEAR}-01-01 on")
    return value


def check_history_start(value: date | None, today: date) -> list[str]:
    """A history start after today would refuse every detection."""
    if value is not None and value > today:
        return [f"history_start: must not be after today ({today.isoformat()})"]
    return []


def stored_setting(conn: Connection, key: str) -> str | None:
    """One plant setting as stored, or None."""
    return conn.execute(select(t.plant_settings.c.value).where(t.plant_settings.c.key == key)).scalar()


def set_plant_setting(conn: Connection, key: str, value: str) -> None:
    """Upsert one plant setting (portable: update, insert when nothing was updated)."""
    s = t.plant_settings
    if conn.execute(select(s.c.key).where(s.c.key == key)).first() is None:
        conn.execute(insert(s).values(key=key, value=value))
    else:
        conn.execute(update(s).where(s.c.key == key).values(value=value))


def apply_history_start(conn: Connection, new: date | None) -> None:
    """Store the plant's start of history (None: back to the rolling default) in the caller's
    transaction; a change marks every line's stops from the earlier of the old and the new start
    (from the beginning when either is the rolling default) and bumps the metadata version."""
    before = stored_setting(conn, t.HISTORY_START)
    if before == (new.isoformat() if new else None):
        return
    if new is None:
        conn.execute(delete(t.plant_settings).where(t.plant_settings.c.key == t.HISTORY_START))
    else:
        set_plant_setting(conn, t.HISTORY_START, new.isoformat())
    try:
        old = date.fromisoformat(before) if before else None
    except ValueError:
        old = None
    earlier = min(old, new) - timedelta(days=1) if old and new else FROM_START
    mark_dirty(conn, [r.id for r in conn.execute(select(t.lines.c.id))], earlier)
    bump_metadata_version(conn)
