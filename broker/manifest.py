"""The external API manifest (config/external_apis.yml), validated entry by entry.

A bad entry (or an unreadable file) never stops the engine: it is kept as an admin-visible
message, and only the widgets that use that API show an error.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class ApiSpec(BaseModel):
    """One external API: where it is, how to call it, how long to wait, where its token is."""

    model_config = ConfigDict(extra="forbid")

    url: str
    method: Literal["GET", "POST"] = "GET"
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    token_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    description: str = ""

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if value.startswith("/") and not value.startswith("//"):
            return value  # served by this engine itself, called in-process
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http://, https:// or / (this engine)")
        return value

    @property
    def is_local(self) -> bool:
        """True for a path served by this engine (no network hop, no self-deadlock)."""
        return self.url.startswith("/")


@dataclass(frozen=True)
class Manifest:
    """Valid specs by API id, and one message per entry (or file) that could not be used."""

    apis: dict[str, ApiSpec] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    file_error: str | None = None

    def problem(self, api_id: str) -> str | None:
        """Why `api_id` cannot be called, or None when it can."""
        if api_id in self.apis:
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
            where = ".".join(str(p) for p in err["loc"]) or "entry"
            errors[key] = f"{where}: {err['msg']}"
    return Manifest(apis=apis, errors=errors)


_cache: dict[Path, tuple[int, Manifest]] = {}
_lock = threading.Lock()


def load_manifest(path: Path) -> Manifest:
    """The manifest at `path`, re-read only when the file changes (mtime)."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return Manifest(file_error=f"{path.name}: file not found")
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
    try:
        manifest = parse_manifest(path.read_text(encoding="utf-8"), path.name)
    except (OSError, UnicodeDecodeError) as exc:
        manifest = Manifest(file_error=f"{path.name}: unreadable ({exc.__class__.__name__})")
    with _lock:
        _cache[path] = (mtime, manifest)
    return manifest
