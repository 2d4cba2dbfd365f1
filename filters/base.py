"""The contract every dashboard filter follows, and the registry that finds them by name.

A `Filters` row names a class; `filter_registry` resolves that name only against classes that
registered themselves with `@filter_registry.register` (or through the "camet.filters" entry
point group). A filter is built per tenant snapshot: its config is validated when the row is
loaded, its options come from the MetadataCache (never a query), `validate()` turns raw form or
JSON input into a typed value or a Spanish, user-facing ValidationFailed naming the field,
`to_sql()` turns that value into a SqlFragment with bound parameters only (it narrows the
detections), and `to_plant()` into a PlantScope (it narrows the plant data: planned time, shift
instances, stops, OEE). The plant data source asks every filter through `to_plant()` and knows
no concrete class; a filter that says nothing there leaves plant data alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from core.clock import SYSTEM_CLOCK, Clock
from core.errors import RegistryError, ValidationFailed
from core.metadata_cache import TenantMeta
from core.registry import Registry
from core.sample_configs import check_sample_configs
from query.spec import PlantScope, SqlFragment


class FilterConfig(BaseModel):
    """Base of every filter's config schema: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class ValidationContext:
    """What earlier filters of the same request decided (used by dependent filters).

    `line_scopes` maps a filter's param to the line ids its value restricts to (None: all).
    """

    values: Mapping[str, Any] = field(default_factory=dict)
    line_scopes: Mapping[str, frozenset[int] | None] = field(default_factory=dict)


class BaseFilter:
    """One configured filter of one tenant; subclasses set `kind` and `config_model`."""

    kind: ClassVar[str] = "base"  # also names its panel template: partials/filters/_<kind>.html
    # How the page's form carries the value: "single" (one field), "multi" (repeated field),
    # "bool" (hidden 0 + checkbox 1), "range" (`<p>.min`, `<p>.max`) or "date_range" (preset
    # plus `<p>.start`, `<p>.end` when the preset is the custom one).
    form: ClassVar[Mapping[str, Any]] = MappingProxyType({"type": "single"})
    scopes_lines: ClassVar[bool] = False  # its fragments restrict line_ids (others may depend on it)
    sets_time_window: ClassVar[bool] = False  # validated first: its value is the request's days
    # What a widget's drill-down names to set this filter ("line", "shift", "day", ...): a click
    # on a chart bar or table row carries {dimension: value} and the page finds the filter here.
    dimension: ClassVar[str | None] = None
    config_model: ClassVar[type[FilterConfig]] = FilterConfig
    # Configs the class must accept, one per distinct behaviour: the registry-driven tests build
    # every class with each one, so a new filter kind is tested without editing a list.
    sample_configs: ClassVar[tuple[dict[str, Any], ...]] = ({},)

    def __init__(
        self, *, param: str, label: str, config: dict | None, meta: TenantMeta, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.param = param
        self.label = label
        self.meta = meta
        self.clock = clock
        try:
            self.config = self.config_model.model_validate(config or {})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in exc.errors()
            )
            raise RegistryError(f"configuración no válida: {problems}") from None
        self.check_config()

    def check_config(self) -> None:
        """Cross-field or metadata checks of the config; raise RegistryError on a problem."""

    def depends_on(self) -> tuple[str, ...]:
        """Params of line-scoping filters whose values this filter's validation reads."""
        return ()

    def options(self) -> list[dict]:
        """The choices offered, from the metadata snapshot only (read-only, may be shared)."""
        return []

    def default(self) -> Any:
        """The value used when the request does not mention this filter."""
        return None

    def validate(self, raw: Any, context: ValidationContext | None = None) -> Any:
        """Raw form/JSON input → typed value, or ValidationFailed naming this field."""
        raise NotImplementedError

    def to_sql(self, value: Any) -> SqlFragment:
        """The typed value as a query fragment; an empty fragment means "no restriction"."""
        return SqlFragment()

    def to_plant(self, value: Any) -> PlantScope:
        """How the typed value narrows plant data; the default `PlantScope()` leaves it whole
        (a product or weight says nothing about planned time). Lines need nothing here: the
        plant source reads them from the `to_sql()` fragments' `line_ids`."""
        return PlantScope()

    def to_json(self, value: Any) -> Any:
        """The applied value as JSON; `validate(to_json(v)) == v`."""
        return value

    def describe_extra(self) -> dict[str, Any]:
        """Kind-specific keys the front end needs to render this filter."""
        return {}

    def describe(self) -> dict[str, Any]:
        """The JSON definition the front end renders."""
        return {
            "param": self.param,
            "label": self.label,
            "kind": self.kind,
            "class_name": type(self).__name__,
            "options": self.options(),
            "default": self.to_json(self.default()),
            "form": dict(self.form),
            "dimension": self.dimension,
            **self.describe_extra(),
        }

    def fail(self, message: str) -> ValidationFailed:
        """A user-facing error for this field (the caller raises it)."""
        text = f"{self.label}: {message}"
        return ValidationFailed(text, details=[{"field": self.param, "message": text}])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(param={self.param!r})"


def check_contract(klass: type) -> None:
    """Raise RegistryError when a filter class cannot work: the message names what is wrong."""
    who = f"filter class {getattr(klass, '__name__', klass)!r}"
    if not (isinstance(klass, type) and issubclass(klass, BaseFilter)):
        raise RegistryError(f"{who} does not extend BaseFilter")
    check_sample_configs(who, klass.config_model, klass.sample_configs, _first_message)


def _first_message(exc: ValidationError) -> str:
    return str(exc.errors()[0]["msg"])


filter_registry: Registry[type[BaseFilter]] = Registry("filter class", check=check_contract,
                                                       entry_point_group="camet.filters")
