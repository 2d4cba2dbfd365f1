"""BaseWidget: the contract every dashboard widget implements (roadmap stage 5).

A widget is a dumb, pure component: it declares where its data comes from and what it needs,
and turns exactly that data into Chart.js/KPI/table JSON. It never imports the broker or a
database module; the orchestrator builds it from a `Widget_catalog` row and the broker feeds it.

Contract for subclasses (one file per widget, registered with `@widget_registry.register`):

- `source_type`: "internal" (reads the master DataFrame), "external" (reads an API payload) or
  "plant" (reads the stops / shift-instance report of the filtered selection: a
  `widgets.plant_data.PlantData` holding the `plant_parts` it declares).
- internal widgets: `required_columns` (names from query.columns.MASTER_COLUMNS); it may be a
  property when it depends on the config. What they receive depends on `raw_rows`:
- the GRAIN contract (default, `raw_rows = False`): the widget receives a DataFrame whose
  columns are its `required_columns` as DIMENSIONS plus its `measures`. Each row stands for
  `units` detections sharing those dimension values; rows are NOT unique per dimension tuple
  (a path may hand a finer grain), so a widget folds them itself: it sums `units`, `weight_n`,
  `weight_sum_g`, `weight_sumsq_g2`, `under_nominal_n`, `giveaway_sum_g` and takes min/max of
  `weight_min_g`/`weight_max_g`, and NEVER counts rows with `len()` (only `len(data) == 0` →
  "sin datos" is allowed).
  Measures (query.grain.MEASURES): `units` (int, always read), `weight_n` (int: units with a
  weight), `weight_sum_g`, `weight_sumsq_g2` (float64 g, g²), `weight_min_g`, `weight_max_g`
  (float64, NaN when `weight_n` is 0), `under_nominal_n` (int: weighed units lighter than their
  product's nominal) and `giveaway_sum_g` (float64: Σ weight − nominal over the heavier ones).
  Dimensions: any master column except `ts` and `weight_g`, which exist per detection only;
  time comes as `hour_start` (the clock hour), `production_day` (midnight of the date counted
  from the production day start) or `shift_date` (the date of the row's shift instance).
  Example, units and kg per line:

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
- `shape`: a shape registered in `widgets.shapes` (its partial `partials/widgets/_<shape>.html`
  and its table form for exports).
- `config_model`: a pydantic model validating the row's `config` JSON (extra keys rejected).
- `process_data(data) -> dict`: the JSON the front end renders. Return `empty_result()` when
  there is nothing to show; raise `WidgetDataError` when the data is unusable.
- `default_size`: grid width (of 12 columns) and height (rows) when the layout gives none.
- `sample_configs`: configs the widget accepts, one per distinct behaviour (default `({},)`);
  the tests iterate the registry and run every widget with each of them.

`widget_registry.register` checks this contract (`check_contract`) and raises RegistryError
naming the class and the missing piece, so a broken widget fails at import, not at a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import RegistryError
from core.production_days import window_days
from core.registry import Registry
from core.sample_configs import check_sample_configs
from widgets.plant_data import PLANT_PARTS
from widgets.shapes import get_shape

SourceType = Literal["internal", "external", "plant"]
SOURCE_TYPES: frozenset[str] = frozenset({"internal", "external", "plant"})
Shape = str  # a name registered in widgets.shapes


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
        return window_days(self.time_range, self.day_start)


class BaseWidget:
    """Base class of every widget; subclasses set the class attributes and `process_data`."""

    source_type: ClassVar[SourceType] = "internal"
    required_columns: ClassVar[frozenset[str]] = frozenset()
    measures: ClassVar[frozenset[str]] = frozenset({"units"})
    raw_rows: ClassVar[bool] = False
    required_api_id: ClassVar[str | None] = None
    plant_parts: ClassVar[frozenset[str]] = frozenset()
    shape: ClassVar[Shape] = "chart"
    config_model: ClassVar[type[BaseModel]] = NoConfig
    default_size: ClassVar[tuple[int, int]] = (6, 2)
    # Configs the widget must accept: the registry-driven tests build and run it with each one,
    # so a new widget is tested without editing a list. Declare one per distinct behaviour.
    sample_configs: ClassVar[tuple[dict[str, Any], ...]] = ({},)

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


def _declared(klass: type, name: str) -> bool:
    """True when the class sets `name` to a non-empty value or computes it (a property)."""
    return _is_property(klass, name) or bool(getattr(klass, name, None))


def _is_property(klass: type, name: str) -> bool:
    return any(isinstance(vars(k).get(name), property) for k in klass.__mro__)


def check_contract(klass: type) -> None:
    """Raise RegistryError when a widget class cannot work: the message names what is missing."""
    who = f"widget class {klass.__name__}"
    if not (isinstance(klass, type) and issubclass(klass, BaseWidget)):
        raise RegistryError(f"{who} does not extend BaseWidget")
    if klass.source_type not in SOURCE_TYPES:
        raise RegistryError(f"{who}: source_type {klass.source_type!r} is not one of {sorted(SOURCE_TYPES)}")
    needs = {"internal": "required_columns", "external": "required_api_id", "plant": "plant_parts"}
    grained = klass.source_type == "internal" and not klass.raw_rows and _declared(klass, "measures")
    if not grained and not _declared(klass, needs[klass.source_type]):
        raise RegistryError(f"{who}: a {klass.source_type} widget must declare {needs[klass.source_type]}")
    if klass.source_type == "plant" and not _is_property(klass, "plant_parts"):
        unknown = set(klass.plant_parts) - PLANT_PARTS
        if unknown:
            known = sorted(PLANT_PARTS)
            raise RegistryError(f"{who}: unknown plant_parts {sorted(unknown)} (known: {known})")
    if not (isinstance(klass.config_model, type) and issubclass(klass.config_model, BaseModel)):
        raise RegistryError(f"{who}: config_model must be a pydantic model")
    try:
        get_shape(klass.shape)
    except RegistryError as exc:
        raise RegistryError(f"{who}: {exc}") from None
    if klass.process_data is BaseWidget.process_data:
        raise RegistryError(f"{who}: process_data is not implemented")
    check_sample_configs(who, klass.config_model, klass.sample_configs, _first_error)
    width, height = klass.default_size
    if not (1 <= width <= 12 and height >= 1):
        raise RegistryError(f"{who}: default_size {klass.default_size!r} is outside the 12-column grid")


def new_widget_registry() -> Registry[type[BaseWidget]]:
    """A registry of the widget family: registering checks the widget contract first."""
    return Registry("widget class", check=check_contract, entry_point_group="camet.widgets")


widget_registry: Registry[type[BaseWidget]] = new_widget_registry()
