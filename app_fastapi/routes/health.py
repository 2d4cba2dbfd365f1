"""Health check: is the engine up, and do the installation's dependencies answer.

Every caller gets 200 with `ok`, or `degraded` when a dependency does not answer (the engine
itself still answers then). Anonymous callers learn only that: no version, no component names.
A caller with an admin's token also gets `checks`, each dependency's `ok` or `down` and how long
its probe took; the token is checked by its signature alone, because the user table may be the
very thing that is down. Causes (hosts, paths, driver messages) go to the log only, once per
change of state (app_fastapi/health_checks.py).

The probes run concurrently, each bounded to HEALTH_WAIT_S on the wire and ANSWER_WITHIN_S in
all, so a frozen database or an unreachable Redis still gets an answer within 2 s.
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from app_fastapi.deps import RuntimeDep
from app_fastapi.health_checks import Probe, health_checks
from core.errors import AuthError
from core.runtime import Runtime
from identity.engine_tokens import verify_token

router = APIRouter(tags=["health"])
ANSWER_WITHIN_S = 1.5  # a probe still running then counts as down; its thread ends on its own


class Check(BaseModel):
    status: Literal["ok", "down"]
    ms: float = Field(description="how long the probe took (or was waited for)")


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, Check] | None = Field(
        default=None, description="admins only: database, sessions and rate_limits (when on Redis), var_dir")


async def _run(probe: Probe) -> tuple[str | None, float]:
    started = time.perf_counter()
    try:
        cause = await asyncio.wait_for(run_in_threadpool(probe), ANSWER_WITHIN_S)
    except TimeoutError:
        cause = f"no answer within {ANSWER_WITHIN_S:g} s"
    return cause, (time.perf_counter() - started) * 1000


def _is_admin(request: Request, rt: Runtime) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    try:
        return verify_token(rt.settings, token.strip()).is_admin
    except AuthError:
        return False


@router.get("/health", response_model=Health, response_model_exclude_none=True)
async def health(rt: RuntimeDep, request: Request) -> Health:
    """200 with `ok`, or `degraded` when a dependency does not answer; admins see which."""
    checks = health_checks(rt)
    probes = checks.probes()
    results = await asyncio.gather(*(_run(probe) for probe in probes.values()))
    detail: dict[str, Check] = {}
    for name, (cause, ms) in zip(probes, results, strict=True):
        checks.note(name, cause)
        detail[name] = Check(status="ok" if cause is None else "down", ms=round(ms, 1))
    status = "ok" if all(c.status == "ok" for c in detail.values()) else "degraded"
    return Health(status=status, checks=detail if _is_admin(request, rt) else None)
