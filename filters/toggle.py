"""An on/off switch whose effect is chosen from a fixed allow-list (never SQL from config)."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Table

from core.schema_tenant import STATUS_OK, STATUS_REJECT
from filters._parse import parse_bool
from filters.base import BaseFilter, FilterConfig, ValidationContext, filter_registry
from query.spec import SqlFragment

Effect = Literal["incluir_rechazos", "solo_rechazos"]
Predicate = Callable[[Table], ColumnElement[bool]]

# effect → (predicate when on, predicate when off); None means no restriction.
EFFECTS: dict[str, tuple[Predicate | None, Predicate | None]] = {
    "incluir_rechazos": (None, lambda table: table.c.status == STATUS_OK),
    "solo_rechazos": (lambda table: table.c.status == STATUS_REJECT, None),
}


class ToggleConfig(FilterConfig):
    effect: Effect = "incluir_rechazos"
    default: bool = True


@filter_registry.register
class ToggleFilter(BaseFilter):
    """A yes/no filter, e.g. "Incluir rechazos" (off keeps only good units)."""

    kind = "toggle"
    form = MappingProxyType({"type": "bool"})
    config_model = ToggleConfig
    sample_configs = tuple({"effect": e} for e in get_args(Effect))

    def options(self) -> list[dict]:
        return [{"value": True, "label": "Sí"}, {"value": False, "label": "No"}]

    def default(self) -> bool:
        return self.config.default

    def validate(self, raw: Any, context: ValidationContext | None = None) -> bool:
        if raw is None:
            return self.default()
        try:
            return parse_bool(raw)
        except ValueError as exc:
            raise self.fail(str(exc)) from None

    def to_sql(self, value: bool) -> SqlFragment:
        predicate = EFFECTS[self.config.effect][0 if value else 1]
        return SqlFragment(predicate=predicate)

    def describe_extra(self) -> dict[str, Any]:
        return {"effect": self.config.effect}
