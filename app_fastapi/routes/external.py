"""Admin view of the tenant's external sources: status, stored credentials and a live test.

Credentials are write-only: the status says whether one is set, never its value.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app_fastapi.deps import AdminPrincipal, RuntimeDep
from broker import ExternalAPIService, Manifest
from broker.credentials import delete_credential, store_credential, stored_credentials
from broker.external import LOCAL_BASE
from broker.state import broker_state
from core.errors import NotFound, ValidationFailed

router = APIRouter(prefix="/external", tags=["external data"])
ApiId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class SourceStatus(BaseModel):
    id: str
    description: str
    enabled: bool = Field(description="usable by this tenant")
    in_process: bool = Field(description="served by this engine (demo providers)")
    internal: bool = Field(description="allowed to reach private addresses")
    timeout_s: float
    cache_ttl_s: float
    credential: str = Field(description='"no requiere", "guardada", "configurada" (environment) '
                                        'or "falta"; never the value')
    breaker: dict[str, Any] = Field(description="circuit breaker state for this tenant")


class StatusResponse(BaseModel):
    sources: list[SourceStatus]
    errors: list[str] = Field(description="manifest problems")


class CredentialIn(BaseModel):
    """A bearer token for one API, for this tenant only; stored encrypted, never returned."""

    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=4096)


class TestResult(BaseModel):
    ok: bool
    message: str
    elapsed_ms: float | None = None


@router.get("/status", response_model=StatusResponse)
def status(principal: AdminPrincipal, rt: RuntimeDep) -> StatusResponse:
    """Every manifest entry as this tenant sees it, with its breaker state."""
    manifest = broker_state(rt).manifests.load(rt.settings.external_apis_file)
    now = rt.clock.now_utc()
    tenant = principal.tenant
    sources = []
    stored = stored_credentials(rt.db, rt.settings, tenant)
    for api_id, spec in sorted(manifest.apis.items()):
        env_name = spec.token_env_for(tenant)
        credential = "no requiere"
        if stored.get(api_id):
            credential = "guardada"
        elif env_name:
            credential = "configurada" if os.environ.get(env_name, "").strip() else "falta"
        breaker = broker_state(rt).breakers.peek(api_id, tenant)
        with broker_state(rt).breakers.lock:
            state = breaker.snapshot(now) if breaker else {"state": "closed", "consecutive_failures": 0}
        sources.append(SourceStatus(
            id=api_id, description=spec.description, enabled=spec.enabled_for(tenant),
            in_process=spec.is_local, internal=spec.internal, timeout_s=spec.timeout_s,
            cache_ttl_s=spec.cache_ttl_s, credential=credential, breaker=state,
        ))
    return StatusResponse(sources=sources, errors=manifest.messages())


@router.put("/{api_id}/credential", status_code=204)
def set_credential(principal: AdminPrincipal, rt: RuntimeDep, api_id: ApiId, body: CredentialIn) -> Response:
    """Store this tenant's token for a remote source (encrypted); it replaces the env variable."""
    manifest = _known(broker_state(rt).manifests.load(rt.settings.external_apis_file), api_id)
    spec = manifest.apis.get(api_id)
    if spec is None or spec.is_local or not spec.enabled_for(principal.tenant):
        raise ValidationFailed(f"source '{api_id}' takes no credential for this tenant",
                               details=[{"field": "api_id", "message": "fuente sin credencial"}])
    store_credential(rt.db, rt.settings, tenant=principal.tenant, api_id=api_id,
                     value=body.value.strip(), username=principal.username, now=rt.clock.now_utc())
    return Response(status_code=204)


@router.delete("/{api_id}/credential", status_code=204)
def remove_credential(principal: AdminPrincipal, rt: RuntimeDep, api_id: ApiId) -> Response:
    """Forget this tenant's stored token for the source."""
    if not delete_credential(rt.db, tenant=principal.tenant, api_id=api_id):
        raise NotFound(f"no stored credential for '{api_id}'")
    return Response(status_code=204)


@router.post("/{api_id}/test", response_model=TestResult)
async def test_connection(principal: AdminPrincipal, rt: RuntimeDep, request: Request,
                          api_id: ApiId) -> TestResult:
    """One live call to the source, bypassing cache and breaker; no payload is returned."""
    manifest = _known(broker_state(rt).manifests.load(rt.settings.external_apis_file), api_id)
    service = ExternalAPIService(manifest, broker_state(rt), rt.settings, rt.clock,
                                 tenant=principal.tenant, use_cache=False,
                                 credentials=partial(stored_credentials, rt.db, rt.settings,
                                                     principal.tenant))
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url=LOCAL_BASE) as local:
        return TestResult(**await service.probe(api_id, local))


def _known(manifest: Manifest, api_id: str) -> Manifest:
    if api_id not in manifest.apis and api_id not in manifest.errors:
        raise NotFound(f"unknown external source '{api_id}'")
    return manifest
