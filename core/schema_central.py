"""Central database tables: tenants, users, sessions, audit log, job runs, locks, ingest keys."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.mysql import VARCHAR

from core.schema_version import schema_version_table

# Usernames and tenant slugs are stored normalised (core.usernames, core.tenant_slugs) and
# compared bytewise on every backend.
USERNAME_TYPE = String(64).with_variant(VARCHAR(64, charset="utf8mb4", collation="utf8mb4_bin"),
                                        "mysql", "mariadb")
SLUG_TYPE = String(32).with_variant(VARCHAR(32, charset="utf8mb4", collation="utf8mb4_bin"),
                                    "mysql", "mariadb")

metadata = MetaData()

schema_version = schema_version_table(metadata)

tenants = Table(
    "tenants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", SLUG_TYPE, nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("db_url", String(500), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("username", USERNAME_TYPE, nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False, default="viewer"),
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", DateTime, nullable=True),
    Column("password_changed_at", DateTime, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("credential_version", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("tenant_id", "username", name="uq_users_tenant_username"),
    # Ids are never reused (tokens, sessions and saved views name them): SQLite would otherwise
    # hand a deleted user's id to the next new user. MySQL's AUTO_INCREMENT never reuses one.
    sqlite_autoincrement=True,
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", String(255), nullable=False, unique=True),
    Column("data", LargeBinary, nullable=True),
    Column("expiry", DateTime, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("ts", DateTime, nullable=False, index=True),
    Column("tenant_id", Integer, nullable=True, index=True),
    Column("user_id", Integer, nullable=True),
    Column("username", String(64), nullable=True),
    Column("action", String(64), nullable=False),
    Column("detail", JSON, nullable=True),
    Column("ip", String(64), nullable=True),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("job_id", String(64), nullable=False, index=True),
    Column("tenant_slug", String(32), nullable=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    Column("status", String(16), nullable=False),
    Column("detail", Text, nullable=True),
    Column("row_count", BigInteger, nullable=True),
    # The run lock's holder (jobs/run_lock.py): a `running` row whose holder no longer holds a
    # live lease is reaped as `abandoned`.
    Column("holder", String(128), nullable=True),
)

# CSV uploads from the browser: the background import's state and progress. Kept
# centrally (like job_runs) so progress is written while the tenant's import transaction holds
# its database (SQLite allows one writer per file).
csv_uploads = Table(
    "csv_uploads",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("tenant_slug", String(32), nullable=False, index=True),
    Column("line_code", String(32), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("user_id", Integer, nullable=True),
    Column("status", String(16), nullable=False),  # queued, running, done, rejected, error
    Column("rows_total", BigInteger, nullable=False, default=0),
    Column("rows_done", BigInteger, nullable=False, default=0),
    Column("rows_inserted", BigInteger, nullable=False, default=0),
    Column("message", Text, nullable=True),
    Column("bad_rows", JSON, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
)

# Leases: the scheduler's lead on SQLite (`camet-jobs`), and on both backends one row per job
# and tenant run (`run:<job>:<tenant>`). `token` grows on every change of holder and fences the
# holder's commits (jobs/run_lock.py); a released lease keeps its row and token.
job_locks = Table(
    "job_locks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("token", BigInteger, nullable=False, default=0),
)

# Per-gateway API keys of the ingestion API: only a keyed hash of the key is stored.
ingest_keys = Table(
    "ingest_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("line_codes", JSON, nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime, nullable=True),
    Column("revoked_at", DateTime, nullable=True),
    Column("batches", BigInteger, nullable=False, default=0),
    Column("rows_inserted", BigInteger, nullable=False, default=0),
    UniqueConstraint("tenant_id", "name", name="uq_ingest_keys_tenant_name"),
)
