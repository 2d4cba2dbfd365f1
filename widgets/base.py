"""BaseWidget: the contract every dashboard widget implements (roadmap stage 5).

A widget is a dumb, pure component: it declares where its data comes from and what it needs,
and turns exactly that data into Chart.js/KPI/table JSON. It never imports the broker or a
database module; the orchestrator builds it from a `Widget_catalog` row and the broker feeds it.

Contract for subclasses (one file per widget, registered with `@widget_registry.register`):

- `source_type`: "internal" (reads the master DataFrame) or "external" (reads an API payload).
- internal widgets: `required_columns` (names from query.columns.MASTER_COLUMNS); it may be a
  property when it depends on the config. They receive `frame[required_columns]`.
- external widgets: `required_api_id` (a key of config/external_apis.yml) and `api_params()`;
  they receive the decoded JSON payload of that API. An external widget that also declares
  `required_columns` receives `CombinedData(frame=frame[required_columns], payload=...)`.
- `shape`: names the page's partial `partials/widgets/_<shape>.html` ("kpi", "chart", "table"
  ship with the product; an unknown shape falls back to `_default.html`).
- `config_model`: a pydantic model validating the row's `config` JSON (extra keys rejected).
- `process_data(data) -> dict`: the JSON the front end renders. Return `empty_result()` when
  there is nothing to show; raise `WidgetDataError` when the data is unusable.
- `default_size`: grid width (of 12 columns) and height (rows) when the layout gives none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import CametError, RegistryError
from core.registry import Registry

widget_registry: Registry[type[BaseWidget]] = Registry("widget", entry_point_group="camet.widgets")
SourceType = Literal["internal", "external"]
Shape = str  # a template name: partials/widgets/_<shape>.html


class WidgetDataError(CametError):
    """The data handed to a widget cannot be rendered (e.g. a malformed API payload)."""


class NoConfig(BaseModel):
    """Config model of widgets without options: only an empty object is accepted."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class CombinedData:
    """What a widget declaring both an API and columns receives: its frame and the payload."""

    frame: Any
    payload: Any


@dataclass(frozen=True)
class WidgetContext:
    """What a widget may know about the run besides its data: the applied time window."""

    time_range: tuple[datetime, datetime] | None = None
    timezone: str = "UTC"
    now: datetime | None = None  # the plant's local time of this run, from the injected clock
    day_start: timedelta = timedelta(0)  # production day start: day buckets are production days

    def production_days(self) -> tuple[date, date] | None:
        """First and last production date (inclusive) of the applied window, when there is one."""
        if self.time_range is None:
            return None
        start, end = (moment - self.day_start for moment in self.time_range)
        return start.date(), max(start, end - timedelta(microseconds=1)).date()


class BaseWidget:
    """Base class of every widget; subclasses set the class attributes and `process_data`."""

    source_type: ClassVar[SourceType] = "internal"
    required_columns: ClassVar[frozenset[str]] = frozenset()
    required_api_id: ClassVar[str | None] = None
    shape: ClassVar[Shape] = "chart"
    config_model: ClassVar[type[BaseModel]] = NoConfig
    default_size: ClassVar[tuple[int, int]] = (6, 2)

    def __init__(
        self,
        *,
        widget_id: int,
        title: str,
        config: dict[str, Any] | None = None,
        context: WidgetContext | None = None,
    ) -> None:
        self.widget_id = widget_id
        self.title = title
        self.context = context or WidgetContext()
        try:
            self.config = self.config_model.model_validate(config or {})
        except ValidationError as exc:
            raise RegistryError(
                f"widget {title!r} ({type(self).__name__}): invalid config: {_first_error(exc)}"
            ) from None

    @property
    def class_name(self) -> str:
        return type(self).__name__

    def columns(self) -> frozenset[str]:
        """The master-frame columns this widget reads (external widgets usually none)."""
        return frozenset(self.required_columns)

    def api_params(self) -> dict[str, str]:
        """Query parameters for the external API call (external widgets override)."""
        return {}

    def process_data(self, data: Any) -> dict[str, Any]:
        """Turn the scoped data into the JSON the front end renders."""
        raise NotImplementedError

    @staticmethod
    def empty_result() -> dict[str, Any]:
        """The "sin datos" answer: the front end shows an empty state, not a zero."""
        return {"empty": True}


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "config"
    return f"{where}: {err['msg']}"
