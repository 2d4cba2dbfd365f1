"""One typed settings object, read from CAMET_* environment variables and an optional `.env`.

Secrets are never hard-coded: when unset they are generated once and kept under the var
directory, so every process of one installation shares them.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.db_url import parse_db_url
from core.errors import CametError, SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The names a development or test installation answers to when CAMET_TRUSTED_HOSTS is empty.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "testserver")


class Settings(BaseSettings):
    """Every knob of the product; the README's settings table documents each field."""

    model_config = SettingsConfigDict(
        env_prefix="CAMET_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "production", "test"] = "development"
    var_dir: Path = PROJECT_ROOT / "var"
    central_db_url: str = Field(default="", description="empty: SQLite file under var/")
    secret_key: str = Field(default="", description="Flask session/CSRF key; empty: generated")
    jwt_secret: str = Field(default="", description="HS256 key for engine tokens; empty: generated")
    jwt_kid: str = "k1"
    jwt_previous_keys: str = Field(default="", description="old keys as kid:secret,kid:secret")
    jwt_ttl_s: int = Field(default=300, ge=30, le=3600)
    db_tls: Literal["auto", "disabled", "required"] = "auto"
    engine_url: str = Field(default="", description="empty: in-process engine")
    default_timezone: str = "America/Argentina/Buenos_Aires"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    ratelimit_storage_uri: str = "memory://"
    session_backend: Literal["filesystem", "redis"] = "filesystem"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_timeout_s: float = Field(default=1.0, gt=0, le=30,
                                   description="connect/read timeout of Redis calls (sessions, rate limits)")
    redis_retry_s: float = Field(default=5.0, ge=0, le=300,
                                 description="seconds after a Redis failure before trying it again")
    session_idle_minutes: int = Field(default=60, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    host: str = "127.0.0.1"
    flask_port: int = Field(default=8000, ge=1, le=65535)
    api_port: int = Field(default=8001, ge=1, le=65535)
    max_rows: int = Field(default=5_000_000, ge=1)
    query_timeout_s: float = Field(default=30.0, gt=0)
    # How long the client waits for the database (core/db_budget.py): a server that hangs answers
    # nothing, so only these client-side limits end the wait.
    db_timeout_s: float = Field(default=10.0, gt=0, le=3600,
                                description="a web request's wait for one database answer")
    db_connect_timeout_s: float = Field(default=3.0, gt=0, le=300,
                                        description="connect to MySQL: TCP, greeting, authentication")
    db_long_timeout_s: float = Field(default=1800.0, gt=0, le=86400,
                                     description="jobs, commands, background imports: wait per answer")
    db_retry_s: int = Field(default=5, ge=1, le=300,
                            description="after the database failed to answer: fail at once this long")
    run_concurrency: int = Field(default=2, ge=0, description="heavy dashboard runs at once; 0: no gate")
    run_queue: int = Field(default=8, ge=0, description="runs waiting for a slot before 503")
    planner_path: Literal["auto", "rollup", "pushdown", "raw"] = Field(
        default="auto", description="auto: the planner chooses; a path forces it (benchmarks, diagnosis)")
    malloc_mmap_threshold_kb: int = Field(
        default=128, ge=0, le=32768,
        description="glibc: blocks this large get own mappings, freed at once; 0: glibc's sliding one")
    malloc_arena_max: int = Field(default=2, ge=0, le=64, description="glibc malloc arenas; 0: glibc's own")
    result_cache_ttl_s: float = Field(default=30.0, ge=0, description="0: no result cache")
    result_cache_url: str = Field(default="", description="redis://… shares results; empty: per process")
    external_apis_file: Path = PROJECT_ROOT / "config" / "external_apis.yml"
    broker_cache_url: str = Field(default="", description="empty: per-process memory; redis://...")
    broker_cache_max_entries: int = Field(default=1000, ge=1)
    broker_stale_max_s: int = Field(default=86_400, ge=1)
    broker_max_per_host: int = Field(default=4, ge=1, le=100)
    lockout_threshold: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    clock_start: str = Field(default="", description="ISO instant the plant clock starts at; empty: real")
    _generated: dict[str, str] = PrivateAttr(default_factory=dict)  # secrets read once from var/
    jobs: Literal["auto", "on", "off"] = Field(default="auto", description="auto: on unless env=test")
    jobs_tick_s: float = Field(default=30.0, ge=0.2, le=3600)
    jobs_lease_s: float = Field(default=120.0, ge=1, le=86400)
    partition_months_ahead: int = Field(default=3, ge=1, le=36)
    partition_retention_months: int = Field(default=0, ge=0, le=1200)

    @property
    def jobs_enabled(self) -> bool:
        """Whether web processes start the job scheduler (tests opt in with jobs=on)."""
        return self.jobs == "on" or (self.jobs == "auto" and self.env != "test")

    # ingestion API: batch size and rate limits of line gateways
    ingest_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    ingest_max_rows: int = Field(default=10_000, ge=1)
    upload_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024,
                                  description="largest detections CSV an admin may upload in the browser")
    plausible_past_days: int = Field(default=730, ge=1, le=36_500,
                                     description="rows older than this many days are refused unless the "
                                     "tenant's history_start is earlier")
    plausible_future_s: int = Field(default=300, ge=0, le=86_400,
                                    description="rows later than now + this many seconds are refused")
    ingest_rate_per_key: str = Field(default="3000 per minute", pattern=r"^\d+ per (second|minute|hour)$")
    trusted_hosts: str = Field(default="", description="Host names served, comma separated; "
                               "required in production; empty elsewhere: the local names")
    trusted_proxies: str = Field(default="", description="IPs of the reverse proxy whose "
                                 "X-Forwarded-* headers are believed; empty: none")

    @field_validator("clock_start")
    @classmethod
    def _instant(cls, value: str) -> str:
        value = value.strip()
        if value:
            try:
                datetime.fromisoformat(value)
            except ValueError:
                raise ValueError("must be an ISO date-time such as 2026-12-31T23:59:00-03:00") from None
        return value

    @model_validator(mode="after")
    def _real_clock_in_production(self) -> Settings:
        if self.clock_start and self.env == "production":
            raise ValueError("CAMET_CLOCK_START is for tests and demos; production runs on the real clock")
        return self

    @model_validator(mode="after")
    def _hosts_in_production(self) -> Settings:
        if self.env == "production" and not self.trusted_host_list():
            raise ValueError("CAMET_TRUSTED_HOSTS is required in production (e.g. camet.example.com)")
        return self

    def trusted_host_list(self) -> list[str]:
        """Host names (a leading dot: and its subdomains) the apps answer; local ones by default."""
        hosts = [h.strip().lower() for h in self.trusted_hosts.split(",") if h.strip()]
        if hosts or self.env == "production":
            return hosts
        return list(LOCAL_HOSTS)

    def trusted_proxy_list(self) -> list[str]:
        """Peer addresses whose X-Forwarded-For/-Proto headers are believed (none by default)."""
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("broker_cache_url", "result_cache_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be empty (per-process memory) or a redis:// URL")
        return value

    @field_validator("central_db_url", "engine_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("central_db_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        if value:
            try:
                parse_db_url(value)
            except CametError as exc:
                raise ValueError(exc.message) from None
        return value

    @field_validator("engine_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    def resolved_central_db_url(self) -> str:
        """The central DB URL, defaulting to a SQLite file under var/."""
        return self.central_db_url or f"sqlite:///{self.var_dir / 'central.db'}"

    def secret(self, name: Literal["secret_key", "jwt_secret"]) -> str:
        """A configured secret, or one generated once and kept in var/ (mode 0600)."""
        value = getattr(self, name)
        if value:
            if len(value.encode()) < 32:
                raise SettingsError(f"CAMET_{name.upper()}: must be at least 32 bytes")
            return value
        cached = self._generated.get(name)
        if cached is None:
            cached = self._generated[name] = _generated_secret(self.var_dir / f"{name}.txt")
        return cached


def _generated_secret(path: Path) -> str:
    """The secret kept at `path`; the first process creates it atomically (0600, never torn)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # created 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)  # atomic and never overwrites: the first writer wins
            except FileExistsError:
                pass
            except OSError:  # a file system without hard links: rename is atomic too
                if not path.exists():
                    os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return path.read_text().strip()


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    name = "CAMET_" + str(first["loc"][0]).upper() if first["loc"] else "CAMET_*"
    return f"{name}: {first['msg']}"


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning a validation error into one line that names the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; invalid settings stop the process with one clear line."""
    try:
        return load_settings()
    except SettingsError as exc:
        sys.stderr.write(f"Invalid setting: {exc}\n")
        raise SystemExit(2) from None
