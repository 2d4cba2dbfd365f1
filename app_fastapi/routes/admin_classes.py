"""GET /api/v1/admin/classes: the registered filter and widget classes with their JSON schema.

The admin pages build their config forms from these schemas, so a new class gets its form
without touching the front end.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from app_fastapi.deps import AdminPrincipal
from engine.class_catalog import filter_classes, widget_classes

router = APIRouter(prefix="/admin", tags=["admin"])


class ClassesOut(BaseModel):
    filters: list[dict[str, Any]]
    widgets: list[dict[str, Any]]


@router.get("/classes", response_model=ClassesOut)
def classes(principal: AdminPrincipal) -> ClassesOut:
    """Every registered class a `Filters` or `Widget_catalog` row may name."""
    return ClassesOut(filters=filter_classes(), widgets=widget_classes())
