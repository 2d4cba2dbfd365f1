"""Health check: is the engine up and can it reach its central database."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from app_fastapi.deps import RuntimeDep
from app_fastapi.version import VERSION

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    database: str


@router.get("/health", response_model=Health)
async def health(rt: RuntimeDep) -> Health:
    """200 with `database: ok|unreachable`; the engine answers even when the DB does not."""
    ok = await run_in_threadpool(rt.db.ping, rt.db.central_engine)
    return Health(status="ok", version=VERSION, database="ok" if ok else "unreachable")
