"""BaseWidget: the contract every dashboard widget implements (roadmap stage 5).

A widget is a dumb, pure component: it declares where its data comes from and what it needs,
and turns exactly that data into Chart.js/KPI/table JSON. It never imports the broker or a
database module; the orchestrator builds it from a `Widget_catalog` row and the broker feeds it.

Contract for subclasses (one file per widget, registered with `@widget_registry.register`):

- `source_type`: "internal" (reads the master data) or "external" (reads an API payload).
- internal widgets: `required_columns` (names from query.columns.MASTER_COLUMNS); it may be a
  property when it depends on the config. What they receive depends on `raw_rows`:
- the GRAIN contract (default, `raw_rows = False`): the widget receives a DataFrame whose
  columns are its `required_columns` as DIMENSIONS plus its `measures`. Each row stands for
  `units` detections sharing those dimension values; rows are NOT unique per dimension tuple
  (a path may hand a finer grain), so a widget folds them itself: it sums `units`, `weight_n`,
  `weight_sum_g`, `weight_sumsq_g2` and takes min/max of `weight_min_g`/`weight_max_g`, and
  NEVER counts rows with `len()` (only `len(data) == 0` → "sin datos" is allowed).
  Measures (query.grain.MEASURES): `units` (int, always read), `weight_n` (int: units with a
  weight), `weight_sum_g`, `weight_sumsq_g2` (float64 g, g²), `weight_min_g`, `weight_max_g`
  (float64, NaN when `weight_n` is 0). Dimensions: any master column except `ts` and
  `weight_g`, which exist per detection only; time comes as `hour_start` (the clock hour),
  `production_day` (midnight of the date counted from the production day start) or
  `shift_date` (the date of the row's shift instance). Example, units and kg per line:

      required_columns = frozenset({"line_code", "line_name"})
      measures = frozenset({"units", "weight_sum_g"})
      ...
      per_line = data.groupby(["line_code", "line_name"], observed=True)[["units", "weight_sum_g"]].sum()

  Whichever path fed it (raw rows grouped in pandas, GROUP BY in the database, rollups), the
  frame describes the same detections, so the widget's answer is the same.
- `raw_rows = True`: the widget truly needs one row per detection (e.g. exact per-unit
  weights); it receives `frame[required_columns]`, `ts` and `weight_g` included, and `measures`
  is ignored. This forces the run to read every detection: use it only when no measure fits.
- external widgets: `required_api_id` (a key of config/external_apis.yml) and `api_params()`;
  they receive the decoded JSON payload of that API. An external widget that also declares
  `required_columns` receives `CombinedData(frame=<its grained frame>, payload=...)`.
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
    measures: ClassVar[frozenset[str]] = frozenset({"units"})
    raw_rows: ClassVar[bool] = False
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

    def measure_columns(self) -> frozenset[str]:
        """The measures this widget reads besides its dimensions (none for raw-row widgets)."""
        return frozenset() if self.raw_rows else frozenset(self.measures) | {"units"}

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
