"""Explicit, versioned schema changes for the central and tenant databases.

Each database keeps its applied version in `schema_version`. A migration is a numbered function
appended to its list; `upgrade` runs the ones not yet applied, in order, so `init-db` is
idempotent and later releases change the schema in reviewed steps (no autogeneration).
Detection tables are created per line by `ingest.plant_metadata`, not here: their number follows the data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Column, MetaData, Table, func, insert, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine

from core import partitions, rollup_sql, schema_central, schema_tenant
from core.db import transaction
from core.errors import MigrationError
from core.layout_ids import migrate_layouts
from core.usernames import normalize_username

Migration = Callable[[Connection], None]


def _create_all(md: MetaData) -> Migration:
    def step(conn: Connection) -> None:
        md.create_all(conn, checkfirst=True)

    return step


def add_missing_columns(conn: Connection, table: Table, names: list[str]) -> None:
    """ALTER TABLE ADD COLUMN for each named column the live table lacks (idempotent)."""
    have = {c["name"] for c in inspect(conn).get_columns(table.name)}
    for name in names:
        if name in have:
            continue
        column: Column = table.c[name]
        ddl_type = column.type.compile(dialect=conn.dialect)
        default = column.default.arg if column.default is not None else None
        tail = "" if column.nullable else f" NOT NULL DEFAULT {_literal(default)}"
        quote = conn.dialect.identifier_preparer.quote
        conn.exec_driver_sql(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(name)} {ddl_type}{tail}")


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _central_job_rows(conn: Connection) -> None:
    add_missing_columns(conn, schema_central.job_runs, ["row_count"])


def _central_ingest_keys(conn: Connection) -> None:
    schema_central.ingest_keys.create(conn, checkfirst=True)


def _central_csv_uploads(conn: Connection) -> None:
    """Browser CSV uploads and their import progress."""
    schema_central.csv_uploads.create(conn, checkfirst=True)


def _central_job_fencing(conn: Connection) -> None:
    """Fencing tokens on job leases and the holder of each job run."""
    add_missing_columns(conn, schema_central.job_locks, ["token"])
    add_missing_columns(conn, schema_central.job_runs, ["holder"])


def _users_credentials(conn: Connection) -> None:
    """Users get `credential_version`, normalised names and (MySQL) a binary collation."""
    users = schema_central.users
    if "credential_version" not in {c["name"] for c in inspect(conn).get_columns("users")}:
        conn.execute(text("ALTER TABLE users ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0"))
    rows = conn.execute(select(users.c.id, users.c.tenant_id, users.c.username)).all()
    seen: dict[tuple[int, str], str] = {}
    clashes = []
    for row in rows:
        key = (row.tenant_id, normalize_username(row.username))
        if key in seen:
            clashes.append(f"{seen[key]!r} / {row.username!r} → {key[1]!r} (tenant id {key[0]})")
        seen.setdefault(key, row.username)
    if clashes:
        raise MigrationError("usernames that become equal once normalised; rename one of each "
                             "pair and run init-db again: " + "; ".join(clashes))
    for row in rows:
        name = normalize_username(row.username)
        if name != row.username:
            conn.execute(update(users).where(users.c.id == row.id).values(username=name))
    if conn.dialect.name in ("mysql", "mariadb"):
        conn.execute(text("ALTER TABLE users MODIFY username VARCHAR(64) CHARACTER SET utf8mb4 "
                          "COLLATE utf8mb4_bin NOT NULL"))


def normalise_usernames(engine: Engine) -> None:
    """Run the username step again by hand (it is idempotent); MigrationError on clashes."""
    with transaction(engine) as conn:
        _users_credentials(conn)


def _users_ids_never_reused(conn: Connection) -> None:
    """SQLite: rebuild `users` with AUTOINCREMENT (idempotent), so a deleted user's id is never
    handed to a new user; its tokens, sessions and saved views name that id. MySQL's
    AUTO_INCREMENT already never reuses an id."""
    if conn.dialect.name != "sqlite":
        return
    ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'")).scalar()
    if "AUTOINCREMENT" in (ddl or "").upper():
        return
    users = schema_central.users
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(c.name) for c in users.columns)
    conn.exec_driver_sql("ALTER TABLE users RENAME TO users_before_autoincrement")
    users.create(conn)
    conn.exec_driver_sql(f"INSERT INTO users ({columns}) SELECT {columns} FROM users_before_autoincrement")
    conn.exec_driver_sql("DROP TABLE users_before_autoincrement")


def _tenant_slugs_exact(conn: Connection) -> None:
    """MySQL: tenant slugs compare bytewise (binary collation), so an accented or other-case
    spelling is not the same tenant; SQLite already compares bytewise."""
    if conn.dialect.name in ("mysql", "mariadb"):
        conn.execute(text("ALTER TABLE tenants MODIFY slug VARCHAR(32) CHARACTER SET utf8mb4 "
                          "COLLATE utf8mb4_bin NOT NULL"))


CENTRAL: list[Migration] = [
    _create_all(schema_central.metadata), _central_job_rows, _central_ingest_keys, _users_credentials,
    _central_csv_uploads, _users_ids_never_reused, _tenant_slugs_exact, _central_job_fencing,
]


def _tenant_v1(conn: Connection) -> None:
    schema_tenant.metadata.create_all(conn, checkfirst=True)
    if conn.execute(select(schema_tenant.meta_state.c.key)).first() is None:
        conn.execute(insert(schema_tenant.meta_state).values(key="metadata_version", value=1))


def _tenant_layout_row_ids(conn: Connection) -> None:
    """Layout items name Widget_catalog row ids instead of sort_order (idempotent)."""
    migrate_layouts(conn)


def _tenant_calendar_and_stops(conn: Connection) -> None:
    """Shift weekdays, closed days, stop pieces per shift instance, gap-analysis state."""
    t = schema_tenant
    for table in (t.closed_days, t.stops_state):
        table.create(conn, checkfirst=True)
    add_missing_columns(conn, t.shifts, ["weekdays"])
    add_missing_columns(conn, t.stops, ["downtime_s", "production_date", "shift_id", "is_open"])
    add_missing_columns(conn, t.import_batches, ["first_ts", "last_ts"])
    have = {ix["name"] for ix in inspect(conn).get_indexes(t.stops.name)}
    for index in t.stops.indexes:
        if index.name not in have:
            index.create(conn)


def _tenant_line_no_data_after(conn: Connection) -> None:
    """Per-line silence after which the live status says "sin datos"."""
    add_missing_columns(conn, schema_tenant.lines, ["no_data_after_s"])


def _tenant_plant_settings(conn: Connection) -> None:
    """The plant_settings table (production day start)."""
    schema_tenant.plant_settings.create(conn, checkfirst=True)


def _tenant_external_credentials(conn: Connection) -> None:
    """Encrypted per-tenant credentials of external APIs."""
    schema_tenant.external_credentials.create(conn, checkfirst=True)


def _tenant_rollups(conn: Connection) -> None:
    """Rollups per line × 5-minute bucket × product × status, and their progress per line.

    On MySQL the table is RANGE-partitioned by month on bucket_start like the detections; it
    starts with only p0 and pmax (a migration has no clock) and the partitions job adds the
    months ahead and those of the rows in pmax. Idempotent.
    """
    schema_tenant.rollups_state.create(conn, checkfirst=True)
    if conn.dialect.has_table(conn, schema_tenant.rollups.name):
        return
    if conn.dialect.name in ("mysql", "mariadb"):
        partitions.create_partitioned(conn, schema_tenant.rollups, [], column="bucket_start")
    else:
        schema_tenant.rollups.create(conn)


def _tenant_rollups_hourly(conn: Connection) -> None:
    """The hourly rollup tier, filled from the 5-minute rollups already stored. Idempotent."""
    if conn.dialect.has_table(conn, schema_tenant.rollups_hourly.name):
        return
    schema_tenant.rollups_hourly.create(conn)
    if conn.dialect.has_table(conn, schema_tenant.rollups.name):
        conn.execute(rollup_sql.hourly_insert(conn.dialect.name, bounded=False))


def _tenant_targets(conn: Connection) -> None:
    """Production targets per line (and optionally shift and product): units per shift, OEE."""
    schema_tenant.targets.create(conn, checkfirst=True)


def _tenant_stop_reasons(conn: Connection) -> None:
    """Stop reason codes and the reason labels of stops."""
    for table in (schema_tenant.stop_reasons, schema_tenant.stop_labels):
        table.create(conn, checkfirst=True)


def _tenant_saved_views(conn: Connection) -> None:
    """Saved views and each user's start view."""
    schema_tenant.saved_views.create(conn, checkfirst=True)
    schema_tenant.saved_view_starts.create(conn, checkfirst=True)


def _tenant_job_fences(conn: Connection) -> None:
    """The newest fencing token that committed, per job (refuses a deposed run's commits)."""
    schema_tenant.job_fences.create(conn, checkfirst=True)


TENANT: list[Migration] = [
    _tenant_v1, _tenant_layout_row_ids, _tenant_calendar_and_stops, _tenant_line_no_data_after,
    _tenant_plant_settings, _tenant_external_credentials, _tenant_rollups, _tenant_targets,
    _tenant_stop_reasons, _tenant_saved_views, _tenant_rollups_hourly, _tenant_job_fences,
]


def current_version(conn: Connection, version_table: Table) -> int:
    """The highest applied version, 0 for an empty database."""
    if not conn.dialect.has_table(conn, version_table.name):
        return 0
    return conn.execute(select(func.max(version_table.c.version))).scalar() or 0


def _upgrade(engine: Engine, steps: list[Migration], version_table: Table) -> list[int]:
    applied: list[int] = []
    with transaction(engine) as conn:
        version_table.create(conn, checkfirst=True)
        start = current_version(conn, version_table)
        for number, step in enumerate(steps[start:], start=start + 1):
            step(conn)
            conn.execute(insert(version_table).values(version=number, applied_at=datetime.now()))
            applied.append(number)
    return applied


def upgrade_central(engine: Engine) -> list[int]:
    """Bring the central database to the latest version; returns the versions applied."""
    return _upgrade(engine, CENTRAL, schema_central.schema_version)


def upgrade_tenant(engine: Engine) -> list[int]:
    """Bring one tenant database to the latest version; returns the versions applied."""
    return _upgrade(engine, TENANT, schema_tenant.schema_version)
