"""ExternalAPIService: the calls of one dashboard run, for one tenant, through the shared state.

    ExternalAPIError   one call failed and no earlier answer can stand in (the card's message)
    Fetched            a payload: fresh from the provider, from the cache, or stale (marked)

Per request: manifest check (enabled for the tenant) → fresh cache entry → circuit breaker →
attempts with exponential backoff and jitter inside the API's time budget (GET only retries)
→ on failure the last good answer, marked stale. Messages never carry URLs or credentials.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from broker.cache import CacheEntry, cache_key
from broker.calls import call_api
from broker.credentials import UNREADABLE
from broker.manifest import ApiSpec, Manifest
from broker.state import BrokerState
from core.clock import Clock
from core.errors import CallFailed, ExternalAPIError
from core.settings import Settings

log = logging.getLogger(__name__)
LOCAL_BASE = "http://engine.internal"  # the in-process host the engine trusts (edge_guard)
BACKOFF_BASE_S = 0.05


@dataclass(frozen=True)
class Fetched:
    """A payload and where it came from; `stale` answers carry the reason the live call failed."""

    payload: Any
    fetched_at: datetime
    origin: str  # "live" | "cache" | "stale"
    error: str | None = None

    @property
    def stale(self) -> bool:
        return self.origin == "stale"


@dataclass(frozen=True)
class ApiRequest:
    """One call: which API and which parameters (hashable, so equal calls are made once)."""

    api_id: str
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, api_id: str, params: Mapping[str, str] | None = None) -> ApiRequest:
        return cls(api_id, tuple(sorted((str(k), str(v)) for k, v in (params or {}).items())))


class ExternalAPIService:
    """Makes one tenant's calls; caches, breakers and clients live in the shared BrokerState."""

    def __init__(
        self,
        manifest: Manifest,
        state: BrokerState,
        settings: Settings,
        clock: Clock,
        *,
        tenant: str,
        env: Mapping[str, str] | None = None,
        local_transport: httpx.AsyncBaseTransport | None = None,
        use_cache: bool = True,
        credentials: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self.manifest = manifest
        self.state = state
        self.cache = state.cache(settings)
        self.clock = clock
        self.tenant = tenant
        self._env = env if env is not None else os.environ
        self._local_transport = local_transport
        self.use_cache = use_cache
        self._credentials = credentials
        self._stored: Mapping[str, str] = {}
        self.stale_max_s = settings.broker_stale_max_s
        self.calls_made = 0

    async def fetch_many(self, requests: Iterable[ApiRequest]) -> dict[ApiRequest, Any]:
        """Every distinct request at once; a value is a Fetched or an ExternalAPIError."""
        unique = list(dict.fromkeys(requests))
        if not unique:
            return {}
        await self._load_stored(r.api_id for r in unique)
        local = None
        if self._local_transport is not None:
            local = httpx.AsyncClient(transport=self._local_transport, base_url=LOCAL_BASE)
        try:
            results = await asyncio.gather(*(self._guarded(r, local) for r in unique))
        finally:
            if local is not None:
                await local.aclose()
        return dict(zip(unique, results, strict=True))

    async def _guarded(self, request: ApiRequest, local: httpx.AsyncClient | None) -> Any:
        try:
            return await self.fetch_one(request, local)
        except ExternalAPIError as exc:
            return exc

    async def fetch_one(self, request: ApiRequest, local: httpx.AsyncClient | None = None) -> Fetched:
        """One answer for `request`: cached, live, or stale; ExternalAPIError when none."""
        api_id = request.api_id
        problem = self.manifest.problem(api_id, self.tenant)
        if problem:
            raise ExternalAPIError(api_id, f"configuración inválida: {problem}")
        spec = self.manifest.apis[api_id]
        token = self._token(api_id, spec)
        key = cache_key(api_id, self.tenant, request.params)
        entry = await self._cached(key)
        now = self.clock.now_utc()
        if entry is not None and (now - entry.fetched_at).total_seconds() < spec.cache_ttl_s:
            return Fetched(entry.payload, entry.fetched_at, "cache")
        breaker = self.state.breakers.get(api_id, self.tenant, spec.breaker_failures,
                                          spec.breaker_cooldown_s)
        with self.state.breakers.lock:
            allowed = breaker.allow(now)
            wait_s = breaker.retry_in_s(now)
        if not allowed:
            message = f"servicio en pausa tras fallas repetidas (reintento en {wait_s:.0f} s)"
            return self._fallback(api_id, entry, message)
        try:
            payload = await self._attempts(request, spec, token, local)
        except CallFailed as exc:
            with self.state.breakers.lock:
                if exc.counts:
                    breaker.failure(self.clock.now_utc(), exc.message)
                else:
                    breaker.probing = False
            log.warning("external API %s (tenant %s) failed: %s", api_id, self.tenant, exc.message)
            return self._fallback(api_id, entry, exc.message)
        except BaseException:  # cancelled with the run: let the next call probe again
            with self.state.breakers.lock:
                breaker.probing = False
            raise
        fetched_at = self.clock.now_utc()
        with self.state.breakers.lock:
            breaker.success(fetched_at)
        if self.use_cache and spec.cache_ttl_s > 0:
            await asyncio.to_thread(self.cache.put, key, CacheEntry(payload, fetched_at))
        return Fetched(payload, fetched_at, "live")

    async def probe(self, api_id: str, local: httpx.AsyncClient | None = None) -> dict[str, Any]:
        """One live call without cache, breaker or retries: the admin's "test connection"."""
        problem = self.manifest.problem(api_id, self.tenant)
        if problem:
            return {"ok": False, "message": f"configuración inválida: {problem}"}
        spec = self.manifest.apis[api_id]
        await self._load_stored([api_id])
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            token = self._token(api_id, spec)
            await call_api(spec, {}, token=token, budget_s=spec.timeout_s,
                           pool=self.state.clients, local=local)
        except (ExternalAPIError, CallFailed) as exc:
            return {"ok": False, "message": exc.message,
                    "elapsed_ms": round((loop.time() - started) * 1000, 1)}
        return {"ok": True, "message": "conexión correcta",
                "elapsed_ms": round((loop.time() - started) * 1000, 1)}

    async def _cached(self, key: str) -> CacheEntry | None:
        if not self.use_cache:
            return None
        return await asyncio.to_thread(self.cache.get, key)

    def _fallback(self, api_id: str, entry: CacheEntry | None, message: str) -> Fetched:
        """The last good answer marked stale, if it is not older than CAMET_BROKER_STALE_MAX_S."""
        too_old = entry is not None and (
            (self.clock.now_utc() - entry.fetched_at).total_seconds() > self.stale_max_s)
        if entry is None or too_old:
            raise ExternalAPIError(api_id, message)
        return Fetched(entry.payload, entry.fetched_at, "stale", error=message)

    async def _attempts(self, request: ApiRequest, spec: ApiSpec, token: str | None,
                        local: httpx.AsyncClient | None) -> Any:
        """Call until success, a non-retryable failure, or the API's time budget is spent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + spec.timeout_s
        retries = spec.retries if spec.method == "GET" else 0
        attempt = 0
        while True:
            remaining = deadline - loop.time()
            try:
                self.calls_made += 1
                return await call_api(spec, dict(request.params), token=token, budget_s=remaining,
                                      pool=self.state.clients, local=local)
            except CallFailed as exc:
                pause = BACKOFF_BASE_S * (2 ** attempt) * random.uniform(0.5, 1.5)  # noqa: S311
                if not exc.retryable or attempt >= retries or loop.time() + pause >= deadline:
                    raise
                attempt += 1
                await asyncio.sleep(pause)

    async def _load_stored(self, api_ids: Iterable[str]) -> None:
        """Read the tenant's stored credentials once, if a remote API is about to be called."""
        specs = [self.manifest.apis.get(a) for a in api_ids]
        if self._credentials is not None and any(s is not None and not s.is_local for s in specs):
            loader, self._credentials = self._credentials, None
            try:
                self._stored = await asyncio.to_thread(loader)
            except Exception as exc:  # noqa: BLE001 - e.g. `init-db` not run yet: env tokens still work
                log.warning("stored API credentials of %s unreadable (%s)", self.tenant,
                            exc.__class__.__name__)

    def _token(self, api_id: str, spec: ApiSpec) -> str | None:
        """The bearer token: the tenant's stored credential, else its environment variable."""
        stored = self._stored.get(api_id)
        if stored == UNREADABLE:
            raise ExternalAPIError(api_id, "la credencial guardada ya no se puede leer "
                                           "(cambió la clave del servidor): vuelva a cargarla")
        if stored:
            return stored
        env_name = spec.token_env_for(self.tenant)
        if not env_name:
            return None
        token = self._env.get(env_name, "").strip()
        if not token:
            raise ExternalAPIError(api_id, f"falta el token (variable de entorno {env_name})")
        return token
