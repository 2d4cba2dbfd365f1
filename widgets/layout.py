"""Resolve a dashboard layout against the widget catalog rows (pure: rows come in as dicts).

Items reference `Widget_catalog` row ids (`{"widget_id": ID, "w": W, "h": H}`), so reordering
or renumbering the catalog never moves a card to another layout slot. Problems never fail the
dashboard: a bad or dangling item becomes an admin-visible message and is skipped; an item of a
disabled row is skipped silently (disabling hides a widget everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from widgets.base import widget_registry


class LayoutItem(BaseModel):
    """One card of a layout: which catalog row, and its size on the 12-column grid."""

    model_config = ConfigDict(extra="forbid")

    widget_id: int = Field(ge=1)
    w: int | None = Field(default=None, ge=1, le=12)
    h: int | None = Field(default=None, ge=1, le=4)


@dataclass(frozen=True)
class Placement:
    """One catalog row placed on the grid."""

    row: dict[str, Any]
    w: int
    h: int


def resolve_layout(
    items: list[Any] | None, rows: list[dict[str, Any]]
) -> tuple[list[Placement], list[str]]:
    """Placements in layout order plus messages; no layout → every active row in sort order."""
    active = sorted((r for r in rows if r.get("active", True)), key=lambda r: (r["sort_order"], r["id"]))
    if items is None:
        return [_place(r, None, None) for r in active], []
    by_id = {int(r["id"]): r for r in rows}
    placements: list[Placement] = []
    errors: list[str] = []
    seen: set[int] = set()
    for index, raw in enumerate(items if isinstance(items, list) else []):
        try:
            item = LayoutItem.model_validate(raw)
        except ValidationError as exc:
            errors.append(f"layout item {index + 1}: {exc.errors()[0]['msg']}")
            continue
        row = by_id.get(item.widget_id)
        if row is None:
            errors.append(f"layout item {index + 1}: no widget with id {item.widget_id}")
            continue
        if not row.get("active", True):
            continue
        if item.widget_id in seen:
            errors.append(f"layout item {index + 1}: widget {item.widget_id} placed twice")
            continue
        seen.add(item.widget_id)
        placements.append(_place(row, item.w, item.h))
    if not isinstance(items, list):
        errors.append("layout items must be a list")
    return placements, errors


def _place(row: dict[str, Any], w: int | None, h: int | None) -> Placement:
    default_w, default_h = (6, 2)
    if row.get("class_name") in widget_registry:
        default_w, default_h = widget_registry.get(row["class_name"]).default_size
    return Placement(row=row, w=w or default_w, h=h or default_h)
