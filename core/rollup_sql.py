"""SQL expressions of the rollup grain, histogram and nominal measures, for SQLite and MySQL/MariaDB.

The rollup job aggregates with them, and a reader that groups raw detections in the database
(e.g. the newest, not yet rolled-up bucket) can use the same ones, so both agree exactly with
`core.rollup_grain.floor_to_grain` and `hist_bin`, and with the rollups' `under_nominal_n` and
`giveaway_sum_g` (query/grain.py computes the same two per detection in pandas).
"""

from __future__ import annotations

from sqlalchemy import Integer, bindparam, case, cast, func, insert, literal, literal_column, select
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement

from core.rollup_grain import GRAIN_SECONDS, HIST_BINS, HIST_HIGH_PCT, HIST_LOW_PCT, HIST_STEP_PCT
from core.schema_tenant import Timestamp, rollups, rollups_hourly

GRAIN_MINUTES = GRAIN_SECONDS // 60
# MySQL buckets count whole minutes from an origin on an hour before any plant data, so the
# integer division never meets a negative number (TIMESTAMPDIFF truncates towards zero).
_MYSQL_ORIGIN = literal_column("'1000-01-01 00:00:00'")
_MINUTE = literal_column("MINUTE")

if GRAIN_SECONDS % 60:
    raise ValueError("the SQL bucket expressions need a grain of whole minutes")


def is_mysql_dialect(dialect_name: str) -> bool:
    return dialect_name in ("mysql", "mariadb")


def bucket_start_sql(ts: ColumnElement, dialect_name: str) -> ColumnElement:
    """The bucket start of `ts`, in the stored timestamp format of the dialect.

    SQLite stores timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' text (SQLAlchemy's format, which
    the bulk loader writes too): the bucket is the same text with the minute floored and the
    seconds zeroed, so it compares equal to a bound datetime parameter.
    """
    if is_mysql_dialect(dialect_name):
        minutes = func.timestampdiff(_MINUTE, _MYSQL_ORIGIN, ts)
        return func.timestampadd(_MINUTE, minutes.op("DIV")(GRAIN_MINUTES) * GRAIN_MINUTES, _MYSQL_ORIGIN)
    minute = cast(func.substr(ts, 15, 2), Integer)
    floored = func.printf("%02d", minute.op("/")(GRAIN_MINUTES) * GRAIN_MINUTES)
    return func.substr(ts, 1, 14).op("||")(floored).op("||")(literal(":00.000000"))


def hour_start_sql(ts: ColumnElement, dialect_name: str) -> ColumnElement:
    """The clock hour holding `ts`, in the stored timestamp format (see bucket_start_sql)."""
    if is_mysql_dialect(dialect_name):
        return func.timestampadd(literal_column("HOUR"), func.timestampdiff(literal_column("HOUR"),
                                                                            _MYSQL_ORIGIN, ts), _MYSQL_ORIGIN)
    return func.substr(ts, 1, 14).op("||")(literal("00:00.000000"))


def deviation_pct_sql(weight: ColumnElement, nominal: ColumnElement) -> ColumnElement:
    """(weight − nominal) × 100 / nominal, the operations of core.rollup_grain.deviation_pct."""
    return (weight - nominal) * literal(100.0) / nominal


def under_nominal_sql(weight: ColumnElement, nominal: ColumnElement) -> ColumnElement:
    """1 for a unit lighter than its nominal, else 0: a NULL weight or nominal (a product without
    a `products` row) compares unknown and counts 0. SUM it for `under_nominal_n`."""
    return case((weight < nominal, 1), else_=0)


def giveaway_sql(weight: ColumnElement, nominal: ColumnElement) -> ColumnElement:
    """weight − nominal for a unit heavier than its nominal, else 0.0 (also for a NULL weight or
    nominal). SUM it for `giveaway_sum_g`."""
    return case((weight > nominal, weight - nominal), else_=0.0)


def hist_bin_sql(weight: ColumnElement, nominal: ColumnElement, dialect_name: str) -> ColumnElement:
    """The histogram bin of `weight` (NULL when the weight or the nominal is NULL)."""
    dev = deviation_pct_sql(weight, nominal)
    shifted = (dev - literal(float(HIST_LOW_PCT))) / literal(float(HIST_STEP_PCT))
    # shifted >= 0 here: truncation (SQLite CAST) equals FLOOR (MySQL's CAST would round).
    inner = func.floor(shifted) if is_mysql_dialect(dialect_name) else cast(shifted, Integer)
    return case(
        (dev < HIST_LOW_PCT, 0),
        (dev >= HIST_HIGH_PCT, HIST_BINS - 1),
        else_=inner + 1,
    )


HOURLY_COLUMNS = ("line_id", "bucket_start", "product_id", "status", "units", "weight_n", "weight_sum_g",
                  "weight_sumsq_g2", "weight_min_g", "weight_max_g", "under_nominal_n", "giveaway_sum_g")


def hourly_insert(dialect_name: str, *, bounded: bool = True) -> Insert:
    """INSERT … SELECT of the hourly tier from the 5-minute rollups: sums per line × hour ×
    product × status (min/max of the extremes). Bounded: one line's hours [:lo, :hi)."""
    r = rollups.c
    hour = hour_start_sql(r.bucket_start, dialect_name).label("hour")
    query = select(
        r.line_id, hour, r.product_id, r.status,
        cast(func.sum(r.units), Integer), cast(func.sum(r.weight_n), Integer),
        func.sum(r.weight_sum_g), func.sum(r.weight_sumsq_g2), func.min(r.weight_min_g),
        func.max(r.weight_max_g), cast(func.sum(r.under_nominal_n), Integer), func.sum(r.giveaway_sum_g),
    )
    if bounded:
        lo, hi = bindparam("lo", type_=Timestamp), bindparam("hi", type_=Timestamp)
        query = query.where(r.line_id == bindparam("line"), r.bucket_start >= lo, r.bucket_start < hi)
    query = query.group_by(r.line_id, literal_column("hour"), r.product_id, r.status)
    return insert(rollups_hourly).from_select(list(HOURLY_COLUMNS), query)
