"""Admin view of the tenant's external sources: status, stored credentials and a live test.

Credentials are write-only: the status says whether one is set, never its value.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app_fastapi.deps import AdminPrincipal, RuntimeDep
from engine.external_sources import (
    probe_source,
    remove_source_credential,
    source_statuses,
    store_source_credential,
)

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
    return StatusResponse(**source_statuses(rt, principal.tenant))


@router.put("/{api_id}/credential", status_code=204)
def set_credential(principal: AdminPrincipal, rt: RuntimeDep, api_id: ApiId, body: CredentialIn) -> Response:
    """Store this tenant's token for a remote source (encrypted); it replaces the env variable."""
    store_source_credential(rt, principal.tenant, api_id, body.value, principal.username)
    return Response(status_code=204)


@router.delete("/{api_id}/credential", status_code=204)
def remove_credential(principal: AdminPrincipal, rt: RuntimeDep, api_id: ApiId) -> Response:
    """Forget this tenant's stored token for the source."""
    remove_source_credential(rt, principal.tenant, api_id)
    return Response(status_code=204)


@router.post("/{api_id}/test", response_model=TestResult)
async def test_connection(principal: AdminPrincipal, rt: RuntimeDep, request: Request,
                          api_id: ApiId) -> TestResult:
    """One live call to the source, bypassing cache and breaker; no payload is returned."""
    return TestResult(**await probe_source(rt, principal.tenant, api_id, request.app))
