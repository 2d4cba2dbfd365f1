"""The external API manifest (config/external_apis.yml), validated entry by entry.

A bad entry (or an unreadable file) never stops the engine: it is kept as an admin-visible
message, and only the widgets that use that API show an error. Entries whose URL names a
private, loopback, link-local or metadata address are refused here unless marked `internal`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from broker.guard import literal_address_problem

ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class TenantSource(BaseModel):
    """One tenant's use of an API: where its own token is (or none: stored credential/none)."""

    model_config = ConfigDict(extra="forbid")

    token_env: str | None = Field(default=None, pattern=ENV_NAME)


class ApiSpec(BaseModel):
    """One external API: where it is, how to call it, how long to wait, whose it is."""

    model_config = ConfigDict(extra="forbid")

    url: str
    method: Literal["GET", "POST"] = "GET"
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    token_env: str | None = Field(default=None, pattern=ENV_NAME)
    description: str = ""
    enabled: bool = True
    internal: bool = False
    tenants: dict[str, TenantSource] | None = None
    cache_ttl_s: float = Field(default=300.0, ge=0, le=86_400)
    retries: int = Field(default=2, ge=0, le=5)
    breaker_failures: int = Field(default=3, ge=1, le=100)
    breaker_cooldown_s: float = Field(default=30.0, gt=0, le=3600)
    max_bytes: int = Field(default=2_000_000, gt=0, le=50_000_000)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if value.startswith("/") and not value.startswith("//"):
            return value  # served by this engine itself, called in-process
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http://, https:// or / (this engine)")
        parts = urlsplit(value)
        if not parts.hostname:
            raise ValueError("has no host")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials (use token_env)")
        return value

    @field_validator("tenants")
    @classmethod
    def _slugs(cls, value: dict[str, TenantSource] | None) -> dict[str, TenantSource] | None:
        for slug in value or {}:
            if not re.match(SLUG, slug):
                raise ValueError(f"'{slug}' is not a tenant slug")
        return value

    @model_validator(mode="after")
    def _no_internal_address(self) -> ApiSpec:
        if not self.is_local and not self.internal:
            problem = literal_address_problem(self.host)
            if problem:
                raise ValueError(f"{problem}; only a provider you run yourself may be marked "
                                 "'internal: true'")
        return self

    @property
    def is_local(self) -> bool:
        """True for a path served by this engine (no network hop, no self-deadlock)."""
        return self.url.startswith("/")

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def enabled_for(self, tenant: str) -> bool:
        """Whether `tenant` may call this API (globally enabled and, if listed, listed)."""
        return self.enabled and (self.tenants is None or tenant in self.tenants)

    def token_env_for(self, tenant: str) -> str | None:
        """The environment variable holding `tenant`'s token (its own, else the shared one)."""
        if self.tenants is not None and tenant in self.tenants:
            return self.tenants[tenant].token_env
        return self.token_env


@dataclass(frozen=True)
class Manifest:
    """Valid specs by API id, and one message per entry (or file) that could not be used."""

    apis: dict[str, ApiSpec] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    file_error: str | None = None

    def problem(self, api_id: str, tenant: str | None = None) -> str | None:
        """Why `api_id` cannot be called (by `tenant`), or None when it can."""
        spec = self.apis.get(api_id)
        if spec is not None:
            if not spec.enabled:
                return f"la fuente '{api_id}' está deshabilitada en external_apis.yml"
            if tenant is not None and not spec.enabled_for(tenant):
                return f"la fuente '{api_id}' no está habilitada para esta planta"
            return None
        if api_id in self.errors:
            return f"external_apis.yml, '{api_id}': {self.errors[api_id]}"
        if self.file_error:
            return self.file_error
        return f"external_apis.yml declares no API '{api_id}'"

    def messages(self) -> list[str]:
        """Every configuration problem, for admin pages and logs."""
        out = [self.file_error] if self.file_error else []
        out += [f"external_apis.yml, '{k}': {v}" for k, v in sorted(self.errors.items())]
        return out


def parse_manifest(text: str, source: str = "external_apis.yml") -> Manifest:
    """Validate the YAML text; each entry independently."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        return Manifest(file_error=f"{source}: invalid YAML ({exc.__class__.__name__})")
    apis_raw = data.get("apis") if isinstance(data, dict) else None
    if not isinstance(apis_raw, dict):
        return Manifest(file_error=f"{source}: expected a mapping 'apis: {{id: {{url: ...}}}}'")
    apis: dict[str, ApiSpec] = {}
    errors: dict[str, str] = {}
    for api_id, raw in apis_raw.items():
        key = str(api_id)
        try:
            apis[key] = ApiSpec.model_validate(raw if isinstance(raw, dict) else {"url": raw})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "url"  # the address check
            msg = str(err["msg"]).removeprefix("Value error, ")
            errors[key] = f"{where}: {msg}"
    return Manifest(apis=apis, errors=errors)


def load_manifest(path: Path) -> Manifest:
    """Read and validate the manifest file (no caching: see ManifestLoader)."""
    try:
        return parse_manifest(path.read_text(encoding="utf-8"), path.name)
    except FileNotFoundError:
        return Manifest(file_error=f"{path.name}: file not found")
    except (OSError, UnicodeDecodeError) as exc:
        return Manifest(file_error=f"{path.name}: unreadable ({exc.__class__.__name__})")


class ManifestLoader:
    """The manifest per path, re-read only when the file changes (mtime); one per process."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[int, Manifest]] = {}
        self._lock = threading.Lock()

    def load(self, path: Path) -> Manifest:
        """The current manifest at `path`."""
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return Manifest(file_error=f"{path.name}: file not found")
        with self._lock:
            cached = self._cache.get(path)
            if cached is not None and cached[0] == mtime:
                return cached[1]
        manifest = load_manifest(path)
        with self._lock:
            self._cache[path] = (mtime, manifest)
        return manifest
