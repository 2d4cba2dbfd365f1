"""Per-tenant tables: plant metadata, one detections table per line, dashboards, stops.

Detection tables are named `detections_<line id>`; the name is derived from a validated
integer, never from user input. Their primary key `(ts, seq)` clusters rows by time (fast range
scans on InnoDB) and makes re-imports idempotent: `seq` numbers the rows that share one
timestamp in their source.
"""

from __future__ import annotations

import threading

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql

from core.errors import InvalidDefinition
from core.schema_version import schema_version_table

metadata = MetaData()

# MySQL DATETIME(3) keeps milliseconds; SQLite stores ISO text either way.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=3), "mysql", "mariadb")

STATUS_OK = 0
STATUS_REJECT = 1
STATUS_CODES = {"ok": STATUS_OK, "reject": STATUS_REJECT}

schema_version = schema_version_table(metadata)

meta_state = Table(
    "meta_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Integer, nullable=False, default=0),
)

# --- plant settings: key/value, e.g. production_day_start = "06:00" ---
PRODUCTION_DAY_START = "production_day_start"
HISTORY_START = "history_start"  # "YYYY-MM-DD": the plant's start of history (core/plausibility.py)

plant_settings = Table(
    "plant_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)

areas = Table(
    "areas",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
)

lines = Table(
    "lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("area_id", Integer, ForeignKey("areas.id"), nullable=False),
    Column("ideal_rate_per_min", Float, nullable=False),
    Column("micro_stop_s", Integer, nullable=False, default=20),
    Column("stop_threshold_s", Integer, nullable=False, default=120),
    Column("active", Boolean, nullable=False, default=True),
    # live status: silence longer than this during planned time reads "sin datos"
    Column("no_data_after_s", Integer, nullable=False, default=900),
)

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("nominal_weight_g", Float, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

line_products = Table(
    "line_products",
    metadata,
    Column("line_id", Integer, ForeignKey("lines.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", Integer, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
)

shifts = Table(
    "shifts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("start_time", String(5), nullable=False),
    Column("end_time", String(5), nullable=False),
    Column("weekdays", String(7), nullable=False, default="1234567"),
)

shift_breaks = Table(
    "shift_breaks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shift_id", Integer, ForeignKey("shifts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("start_time", String(5), nullable=False),
    Column("end_time", String(5), nullable=False),
)

filters_table = Table(
    "Filters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("class_name", String(64), nullable=False),
    Column("param_name", String(64), nullable=False, unique=True),
    Column("label", String(200), nullable=False),
    Column("config", JSON, nullable=True),
    Column("sort_order", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
)

widget_catalog = Table(
    "Widget_catalog",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("class_name", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("config", JSON, nullable=True),
    Column("sort_order", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
)

dashboard_layouts = Table(
    "dashboard_layouts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("items", JSON, nullable=False),
)

stops = Table(
    "stops",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("line_id", Integer, ForeignKey("lines.id", ondelete="CASCADE"), nullable=False),
    Column("start_ts", Timestamp, nullable=False),
    Column("end_ts", Timestamp, nullable=False),
    Column("duration_s", Double, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("downtime_s", Double, nullable=False, default=0.0),  # DOUBLE on MySQL: FLOAT keeps 7 digits
    Column("production_date", Date, nullable=True),
    Column("shift_id", Integer, nullable=True),
    Column("is_open", Boolean, nullable=False, default=False),
    UniqueConstraint("line_id", "start_ts", name="uq_stops_line_start"),
    Index("ix_stops_line_start", "line_id", "start_ts"),
    Index("ix_stops_line_day", "line_id", "production_date"),
)

# Plant-closed days (holidays, maintenance): line_id NULL closes the whole plant.
closed_days = Table(
    "closed_days",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("day", Date, nullable=False),
    Column("line_id", Integer, ForeignKey("lines.id", ondelete="CASCADE"), nullable=True),
    Column("name", String(200), nullable=False),
    Index("ix_closed_days_day", "day"),
)

# Production targets: per line, optionally narrowed to a shift and/or a product.
# No unique constraint: NULL shift/product would not collide; the loader replaces by key.
targets = Table(
    "targets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("line_id", Integer, ForeignKey("lines.id", ondelete="CASCADE"), nullable=False),
    Column("shift_id", Integer, ForeignKey("shifts.id", ondelete="CASCADE"), nullable=True),
    Column("product_id", Integer, ForeignKey("products.id", ondelete="CASCADE"), nullable=True),
    Column("units_per_shift", Integer, nullable=True),
    Column("oee", Float, nullable=True),
    Index("ix_targets_line", "line_id"),
)

# Gap-analysis progress per line: the first production date not yet final, and the earliest
# date marked for re-analysis (late data, threshold or calendar changes).
stops_state = Table(
    "stops_state",
    metadata,
    Column("line_id", Integer, primary_key=True),
    Column("next_date", Date, nullable=True),
    Column("dirty_from", Date, nullable=True),
)

# The fencing token of the newest run of each job that committed here (jobs/run_guard.py):
# a chunk commit carrying an older token is refused, so a run that lost its lock to another
# process cannot write after the new holder has.
job_fences = Table(
    "job_fences",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("token", BigInteger, nullable=False),
)

# Rollups: one row per line × 5-minute bucket × product × status, kept by rollups/job.py.
# Its own MetaData: `_tenant_v1` creates everything in `metadata` unpartitioned, while on MySQL
# this table is RANGE-partitioned by month on bucket_start (the rollups migration creates it).
# NULLs: product_id and status are never NULL (a detection always has both). A NULL weight
# counts in `units` but not in `weight_n`; the weight sums are 0 and min/max NULL when
# weight_n = 0. under_nominal_n, giveaway_sum_g and `hist` count only weighed units of a product
# with a row in `products` (its nominal weight): units of an unknown product have an all-zero
# histogram. `hist` is JSON text, a list of core.rollup_grain.HIST_BINS counts.
rollup_metadata = MetaData()

rollups = Table(
    "rollups",
    rollup_metadata,
    Column("line_id", Integer, primary_key=True, autoincrement=False),
    Column("bucket_start", Timestamp, primary_key=True, nullable=False),
    Column("product_id", Integer, primary_key=True, autoincrement=False),
    Column("status", SmallInteger, primary_key=True, autoincrement=False),
    Column("units", Integer, nullable=False),
    Column("weight_n", Integer, nullable=False),
    Column("weight_sum_g", Double, nullable=False),
    Column("weight_sumsq_g2", Double, nullable=False),
    Column("weight_min_g", Float, nullable=True),  # the detections' type: reads back identically
    Column("weight_max_g", Float, nullable=True),
    Column("under_nominal_n", Integer, nullable=False),
    Column("giveaway_sum_g", Double, nullable=False),
    Column("hist", Text, nullable=False),
)

# The hourly tier: the 5-minute rollups summed per clock hour (`bucket_start` is the hour), kept
# by rollups/rebuild.py in the same transaction as the 5-minute rows of that hour, so each row is
# the sum of the 5-minute rows stored now (a partial hour at the watermark included: readers use
# an hour only when all its buckets are complete). Long windows read 12x fewer rows from it. No
# histogram. Small (one row per line × hour × product × status), so not partitioned.
rollups_hourly = Table(
    "rollups_hourly",
    rollup_metadata,
    *(Column(c.name, c.type, primary_key=c.primary_key, autoincrement=False, nullable=c.nullable)
      for c in rollups.columns if c.name != "hist"),
)

# Rollup progress per line: buckets with bucket_start < rolled_until are complete;
# [dirty_from, dirty_until) (bucket edges, both NULL or both set) are buckets below rolled_until
# that late data, imports or a nominal-weight change asked to aggregate again.
rollups_state = Table(
    "rollups_state",
    metadata,
    Column("line_id", Integer, primary_key=True, autoincrement=False),
    Column("rolled_until", Timestamp, nullable=True),
    Column("dirty_from", Timestamp, nullable=True),
    Column("dirty_until", Timestamp, nullable=True),
)

import_batches = Table(
    "import_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("line_id", Integer, ForeignKey("lines.id", ondelete="CASCADE"), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("rows_inserted", Integer, nullable=False),
    Column("rows_skipped", Integer, nullable=False),
    Column("imported_at", DateTime, nullable=False),
    Column("first_ts", Timestamp, nullable=True),
    Column("last_ts", Timestamp, nullable=True),
)

# Saved views: a user's named filter values, personal or shared with the tenant.
# `filters` holds the raw values as the dashboard form sends them; they are validated again
# each time the view is opened, because the tenant's filters may have changed since.
saved_views = Table(
    "saved_views",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("owner_id", Integer, nullable=False, index=True),  # central users.id
    Column("name", String(80), nullable=False),
    Column("shared", Boolean, nullable=False, default=False),
    Column("layout_id", Integer, nullable=True),
    Column("filters", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

# The view each user opens at `/` (one row per user at most).
saved_view_starts = Table(
    "saved_view_starts",
    metadata,
    Column("user_id", Integer, primary_key=True),
    Column("view_id", Integer, ForeignKey("saved_views.id", ondelete="CASCADE"), nullable=False),
)

# Credentials of external APIs set by the tenant's admin, Fernet-encrypted (broker/credentials.py).
external_credentials = Table(
    "external_credentials",
    metadata,
    Column("api_id", String(64), primary_key=True),
    Column("secret_enc", String(8192), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
)


# Stop reasons: the tenant's reason codes, loaded from the plant YAML.
stop_reasons = Table(
    "stop_reasons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

# Reason labels of stops, keyed by (line, stop start) rather than by `stops.id`: gap analysis
# deletes and rewrites a chunk's stops, and a stop that still exists keeps its start, so its
# labels still apply. One row per segment of a split stop: a segment runs from its `seg_start` to
# the next segment's start, the last one to the stop's end (so an open stop keeps its reason).
stop_labels = Table(
    "stop_labels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("line_id", Integer, ForeignKey("lines.id", ondelete="CASCADE"), nullable=False),
    Column("stop_start", Timestamp, nullable=False),
    Column("seg_start", Timestamp, nullable=False),
    Column("reason_id", Integer, ForeignKey("stop_reasons.id"), nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("line_id", "stop_start", "seg_start", name="uq_stop_labels_segment"),
)


def detections_table_name(line_id: int) -> str:
    """The detections table of one line; `line_id` must be an int from metadata."""
    if not isinstance(line_id, int) or isinstance(line_id, bool) or line_id <= 0:
        raise InvalidDefinition(f"invalid line id {line_id!r}")
    return f"detections_{line_id}"


_line_tables = MetaData()
_line_tables_lock = threading.Lock()


def detections_table(line_id: int, md: MetaData | None = None) -> Table:
    """The Table object of one line's detections, registered in `md`.

    Without `md` it is the one shared Table of that line: SQLAlchemy keys its compiled-statement
    cache on the Table objects a statement names, so a fresh Table per run made every statement a
    cache miss and filled each engine's cache (500 entries) with copies that kept ~100 MB alive
    after a burst of runs. Pass a fresh MetaData only for DDL that attaches indexes to it.
    """
    name = detections_table_name(line_id)
    if md is None:
        with _line_tables_lock:
            return _registered_detections_table(name, _line_tables)
    return _registered_detections_table(name, md)


def _registered_detections_table(name: str, md: MetaData) -> Table:
    if name in md.tables:
        return md.tables[name]
    return Table(
        name,
        md,
        Column("ts", Timestamp, primary_key=True, nullable=False),
        Column("seq", SmallInteger, primary_key=True, nullable=False, default=0),
        Column("product_id", Integer, nullable=False),
        Column("weight_g", Float, nullable=True),
        Column("status", SmallInteger, nullable=False, default=STATUS_OK),
    )


DETECTION_COLUMNS = ("ts", "seq", "product_id", "weight_g", "status")
