"""The registered filter and widget classes a catalog row may name, with their config schemas.

The admin pages build their config forms from these JSON schemas (pydantic `model_json_schema()`
of each class's config model), so a new class gets its form without touching the front end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.registry import Registry
from filters import filter_registry
from widgets import widget_registry


def _classes(registry: Registry, kind_of: Callable[[Any], str]) -> list[dict[str, Any]]:
    out = []
    for name in registry.names():
        cls = registry.get(name)
        if cls.__name__ != name:  # aliases keep old rows working; offer only the real name
            continue
        out.append({"name": name, "kind": kind_of(cls), "doc": (cls.__doc__ or "").strip().split("\n")[0],
                    "schema": cls.config_model.model_json_schema()})
    return out


def filter_classes() -> list[dict[str, Any]]:
    """Each filter class: name, kind, first docstring line and config schema."""
    return _classes(filter_registry, lambda c: c.kind)


def widget_classes() -> list[dict[str, Any]]:
    """Each widget class: name, shape/source type, first docstring line and config schema."""
    return _classes(widget_registry, lambda c: f"{c.shape}/{c.source_type}")
