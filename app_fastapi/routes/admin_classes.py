"""GET /api/v1/admin/classes: the registered filter and widget classes with their JSON schema.

The admin pages build their config forms from these schemas (pydantic `model_json_schema()` of
each class's config model), so a new class gets its form without touching the front end.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from app_fastapi.deps import AdminPrincipal
from core.registry import Registry
from filters import filter_registry
from widgets import widget_registry

router = APIRouter(prefix="/admin", tags=["admin"])


class ClassesOut(BaseModel):
    filters: list[dict[str, Any]]
    widgets: list[dict[str, Any]]


def _classes(registry: Registry, kind_of: Any) -> list[dict[str, Any]]:  # noqa: ANN401
    out = []
    for name in registry.names():
        cls = registry.get(name)
        if cls.__name__ != name:  # aliases keep old rows working; offer only the real name
            continue
        out.append({"name": name, "kind": kind_of(cls), "doc": (cls.__doc__ or "").strip().split("\n")[0],
                    "schema": cls.config_model.model_json_schema()})
    return out


@router.get("/classes", response_model=ClassesOut)
def classes(principal: AdminPrincipal) -> ClassesOut:
    """Every registered class a `Filters` or `Widget_catalog` row may name."""
    return ClassesOut(filters=_classes(filter_registry, lambda c: c.kind),
                      widgets=_classes(widget_registry, lambda c: f"{c.shape}/{c.source_type}"))
