"""A filter kind the product does not ship: a free-text note echoed back (plugin sample)."""

from __future__ import annotations

from typing import Any

from filters.base import BaseFilter, ValidationContext, filter_registry


@filter_registry.register
class ObservationFilter(BaseFilter):
    """Accepts up to 40 characters and restricts nothing."""

    kind = "observacion"

    def default(self) -> str:
        return ""

    def validate(self, raw: Any, context: ValidationContext | None = None) -> str:
        if raw is None:
            return ""
        if not isinstance(raw, str) or len(raw) > 40:
            raise self.fail("hasta 40 caracteres")
        return raw.strip()
