"""Health check: is the engine up and can it reach its central database.

Anonymous callers learn only that (no version, no component names): `ok`, or `degraded` when
the central database does not answer; the engine itself still answers 200 then.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from app_fastapi.deps import RuntimeDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "degraded"]


@router.get("/health", response_model=Health)
async def health(rt: RuntimeDep) -> Health:
    """200 with `ok`, or `degraded` when the central database is unreachable."""
    ok = await run_in_threadpool(rt.db.ping, rt.db.central_engine)
    return Health(status="ok" if ok else "degraded")
