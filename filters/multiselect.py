"""Shared behaviour of the multi-select dropdowns (lines, areas, products, shifts).

The value is a frozenset of ids, or None for "todos" — which adds no predicate at all (never an
IN list of every id). Options come from the metadata snapshot, with no cap on their number,
and carry a normalised `search` text; ids that are not options are rejected.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from filters._parse import parse_ids
from filters.base import BaseFilter, ValidationContext

MAX_LISTED = 10
# Most ids one selection may carry (checked before parsing them; "todos" selects everything).
MAX_SELECTED = 2000


def _count(raw: Any) -> int:
    """How many ids a raw selection would carry, without parsing them."""
    if isinstance(raw, list | tuple):
        return len(raw)
    return raw.count(",") + 1 if isinstance(raw, str) else 1


class MultiSelectFilter(BaseFilter):
    """Base of the id multi-selects; subclasses build `_build_options()`."""

    kind = "multiselect"
    form = MappingProxyType({"type": "multi"})

    def _build_options(self) -> list[dict]:
        raise NotImplementedError

    def _memo_key(self) -> tuple:
        return (type(self).__name__, self.config)

    def options(self) -> list[dict]:
        return self.meta.memo(("options", *self._memo_key()), self._build_options)

    def allowed_ids(self) -> frozenset[int]:
        """The ids a user may select (the options' values)."""
        return self.meta.memo(
            ("allowed", *self._memo_key()), lambda: frozenset(o["value"] for o in self.options())
        )

    def validate(self, raw: Any, context: ValidationContext | None = None) -> frozenset[int] | None:
        if raw is None:
            return self.default()
        if _count(raw) > MAX_SELECTED:
            raise self.fail(f"como máximo {MAX_SELECTED} opciones; para todas, elegí «Todos»")
        try:
            ids = parse_ids(raw)
        except ValueError as exc:
            raise self.fail(str(exc)) from None
        if ids is None:
            return None
        unknown = sorted(ids - self.allowed_ids())
        if unknown:
            shown = ", ".join(str(i) for i in unknown[:MAX_LISTED])
            more = f" y {len(unknown) - MAX_LISTED} más" if len(unknown) > MAX_LISTED else ""
            raise self.fail(f"no existen las opciones {shown}{more}")
        return ids

    def to_json(self, value: frozenset[int] | None) -> list[int] | str:
        return "todos" if value is None else sorted(value)

    def describe_extra(self) -> dict[str, Any]:
        return {"multiple": True, "searchable": True, "all_label": "Todos"}
