"""The tenant's external sources for the admin: status, stored credentials and a live test.

Credentials are write-only: a status says whether one is set, never its value.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

import httpx

from broker import ExternalAPIService, Manifest
from broker.credentials import delete_credential, store_credential, stored_credentials
from broker.external import LOCAL_BASE
from broker.state import broker_state
from core.errors import NotFound, ValidationFailed
from core.runtime import Runtime

CLOSED_BREAKER = {"state": "closed", "consecutive_failures": 0}


def _manifest(rt: Runtime) -> Manifest:
    return broker_state(rt).manifests.load(rt.settings.external_apis_file)


def _known(manifest: Manifest, api_id: str) -> Manifest:
    if api_id not in manifest.apis and api_id not in manifest.errors:
        raise NotFound(f"unknown external source '{api_id}'")
    return manifest


def _credential(stored: bool, env_name: str | None) -> str:
    """"guardada" (stored), "configurada" (environment), "falta" or "no requiere"; never the value."""
    if stored:
        return "guardada"
    if env_name:
        return "configurada" if os.environ.get(env_name, "").strip() else "falta"
    return "no requiere"


def source_statuses(rt: Runtime, tenant: str) -> dict[str, Any]:
    """Every manifest entry as this tenant sees it, with its breaker state, and the manifest's problems."""
    state = broker_state(rt)
    manifest = _manifest(rt)
    now = rt.clock.now_utc()
    stored = stored_credentials(rt.db, rt.settings, tenant)
    sources = []
    for api_id, spec in sorted(manifest.apis.items()):
        breaker = state.breakers.peek(api_id, tenant)
        with state.breakers.lock:
            snapshot = breaker.snapshot(now) if breaker else dict(CLOSED_BREAKER)
        sources.append({
            "id": api_id, "description": spec.description, "enabled": spec.enabled_for(tenant),
            "in_process": spec.is_local, "internal": spec.internal, "timeout_s": spec.timeout_s,
            "cache_ttl_s": spec.cache_ttl_s,
            "credential": _credential(bool(stored.get(api_id)), spec.token_env_for(tenant)),
            "breaker": snapshot,
        })
    return {"sources": sources, "errors": manifest.messages()}


def store_source_credential(rt: Runtime, tenant: str, api_id: str, value: str, username: str) -> None:
    """Store the tenant's token for a remote source (encrypted); it replaces the env variable."""
    spec = _known(_manifest(rt), api_id).apis.get(api_id)
    if spec is None or spec.is_local or not spec.enabled_for(tenant):
        raise ValidationFailed(f"source '{api_id}' takes no credential for this tenant",
                               details=[{"field": "api_id", "message": "fuente sin credencial"}])
    store_credential(rt.db, rt.settings, tenant=tenant, api_id=api_id, value=value.strip(),
                     username=username, now=rt.clock.now_utc())


def remove_source_credential(rt: Runtime, tenant: str, api_id: str) -> None:
    """Forget the tenant's stored token for the source (NotFound when there is none)."""
    if not delete_credential(rt.db, tenant=tenant, api_id=api_id):
        raise NotFound(f"no stored credential for '{api_id}'")


async def probe_source(rt: Runtime, tenant: str, api_id: str, local_app: Any) -> dict[str, Any]:
    """One live call to the source, bypassing cache and breaker: {ok, message, elapsed_ms}.

    `local_app` (the engine's own ASGI app) serves the manifest URLs that are plain paths."""
    service = ExternalAPIService(_known(_manifest(rt), api_id), broker_state(rt), rt.settings, rt.clock,
                                 tenant=tenant, use_cache=False,
                                 credentials=partial(stored_credentials, rt.db, rt.settings, tenant))
    transport = httpx.ASGITransport(app=local_app)
    async with httpx.AsyncClient(transport=transport, base_url=LOCAL_BASE) as local:
        return await service.probe(api_id, local)
