"""Admin view of the tenant's external sources: status (breakers, credentials) and a live test.

Credentials are never returned: the status says only whether the one the entry needs is set.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from app_fastapi.deps import AdminPrincipal, RuntimeDep
from broker import ExternalAPIService
from broker.external import LOCAL_BASE
from core.errors import NotFound

router = APIRouter(prefix="/external", tags=["external data"])


class SourceStatus(BaseModel):
    id: str
    description: str
    enabled: bool = Field(description="usable by this tenant")
    in_process: bool = Field(description="served by this engine (demo providers)")
    internal: bool = Field(description="allowed to reach private addresses")
    timeout_s: float
    cache_ttl_s: float
    credential: str = Field(description='"no requiere", "configurada" or "falta" (never the value)')
    breaker: dict[str, Any] = Field(description="circuit breaker state for this tenant")


class StatusResponse(BaseModel):
    sources: list[SourceStatus]
    errors: list[str] = Field(description="manifest problems")


class TestResult(BaseModel):
    ok: bool
    message: str
    elapsed_ms: float | None = None


@router.get("/status", response_model=StatusResponse)
def status(principal: AdminPrincipal, rt: RuntimeDep) -> StatusResponse:
    """Every manifest entry as this tenant sees it, with its breaker state."""
    manifest = rt.broker.manifests.load(rt.settings.external_apis_file)
    now = rt.clock.now_utc()
    tenant = principal.tenant
    sources = []
    for api_id, spec in sorted(manifest.apis.items()):
        env_name = spec.token_env_for(tenant)
        credential = "no requiere"
        if env_name:
            credential = "configurada" if os.environ.get(env_name, "").strip() else "falta"
        breaker = rt.broker.breakers.peek(api_id, tenant)
        with rt.broker.breakers.lock:
            state = breaker.snapshot(now) if breaker else {"state": "closed", "consecutive_failures": 0}
        sources.append(SourceStatus(
            id=api_id, description=spec.description, enabled=spec.enabled_for(tenant),
            in_process=spec.is_local, internal=spec.internal, timeout_s=spec.timeout_s,
            cache_ttl_s=spec.cache_ttl_s, credential=credential, breaker=state,
        ))
    return StatusResponse(sources=sources, errors=manifest.messages())


@router.post("/{api_id}/test", response_model=TestResult)
async def test_connection(
    principal: AdminPrincipal, rt: RuntimeDep, request: Request,
    api_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")],
) -> TestResult:
    """One live call to the source, bypassing cache and breaker; no payload is returned."""
    manifest = rt.broker.manifests.load(rt.settings.external_apis_file)
    if api_id not in manifest.apis and api_id not in manifest.errors:
        raise NotFound(f"unknown external source '{api_id}'")
    service = ExternalAPIService(manifest, rt.broker, rt.settings, rt.clock,
                                 tenant=principal.tenant, use_cache=False)
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url=LOCAL_BASE) as local:
        return TestResult(**await service.probe(api_id, local))
