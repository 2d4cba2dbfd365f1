"""The field types of the filter panel: how one filter's value travels in the page's form.

A filter declares its field type by name (`BaseFilter.form = {"type": ...}`; the engine sends it
with each definition), and the page looks the name up in `panel_field_registry`. The same
names are the dashboard URL's query parameters. Each type parses the form into the raw value
sent to the engine, writes the value back as query pairs, and says what its control shows.
A new type is one class here, registered with `@panel_field_registry.register`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Protocol

from core.metadata_cache import parse_hhmm
from core.production_days import offset_of, window_days
from core.registry import Registry, name_attribute

CUSTOM = "personalizado"
Pairs = list[tuple[str, str]]


class MultiDict(Protocol):
    """A submitted form or query string (werkzeug's MultiDict)."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[str]: ...


class PanelField:
    """How one filter's value travels in the page's form; this base is one field holding text."""

    name: ClassVar[str]

    def parse(self, param: str, form: MultiDict, spec: Mapping[str, Any]) -> Any:
        """The raw value in the form, or None when the form does not carry one."""
        value = form.get(param)
        return None if value in (None, "") else value

    def query(self, param: str, value: Any, spec: Mapping[str, Any]) -> Pairs:
        """The query-string pairs that reproduce `value`."""
        return [(param, str(value))]

    def state(self, value: Any, definition: Mapping[str, Any]) -> dict[str, Any]:
        """What the control shows for an applied (or default) value of the filter `definition`."""
        return {"value": value}

    def echo(self, value: Any) -> Any:
        """The user's own input, shown again when the engine refused it."""
        return value


panel_field_registry: Registry[type[PanelField]] = Registry("filter panel field type", key=name_attribute)


def field_type(name: object) -> PanelField:
    """The field type `name` (what a filter's `form["type"]` names); a filter without one, or
    naming one the page does not know, is a single text field."""
    key = str(name)
    return (panel_field_registry.get(key) if key in panel_field_registry else SingleField)()


@panel_field_registry.register
class SingleField(PanelField):
    """`<p>` = the value."""

    name = "single"


@panel_field_registry.register
class MultiField(PanelField):
    """Repeated `<p>`, one id each; absent is the filter's default ("todos")."""

    name = "multi"

    def parse(self, param: str, form: MultiDict, spec: Mapping[str, Any]) -> Any:
        return [v for v in form.getlist(param) if v != ""] or None

    def query(self, param: str, value: Any, spec: Mapping[str, Any]) -> Pairs:
        return [(param, str(v)) for v in value] if isinstance(value, list) else [(param, str(value))]

    def state(self, value: Any, definition: Mapping[str, Any]) -> dict[str, Any]:
        return {"selected": set(value) if isinstance(value, list) else set()}

    def echo(self, value: Any) -> Any:
        return [int(v) for v in value if str(v).isdigit()]


@panel_field_registry.register
class BoolField(PanelField):
    """`<p>` = "1"/"0" (a hidden "0" before the checkbox; the last value wins)."""

    name = "bool"

    def parse(self, param: str, form: MultiDict, spec: Mapping[str, Any]) -> Any:
        values = form.getlist(param)
        return values[-1] if values else None


@panel_field_registry.register
class RangeField(PanelField):
    """`<p>.min` and `<p>.max`."""

    name = "range"
    KEYS = ("min", "max")

    def parse(self, param: str, form: MultiDict, spec: Mapping[str, Any]) -> Any:
        low, high = (form.get(f"{param}.{k}", "") for k in self.KEYS)
        return {"min": low or None, "max": high or None} if low or high else None

    def query(self, param: str, value: Any, spec: Mapping[str, Any]) -> Pairs:
        if not isinstance(value, Mapping):
            return super().query(param, value, spec)
        return [(f"{param}.{k}", str(value[k])) for k in self.KEYS if value.get(k)]

    def state(self, value: Any, definition: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            return super().state(value, definition)
        return {k: _num(value.get(k)) for k in self.KEYS}


@panel_field_registry.register
class DateRangeField(PanelField):
    """`<p>` = preset; `<p>.start`, `<p>.end` = days, only with the custom preset."""

    name = "date_range"

    def parse(self, param: str, form: MultiDict, spec: Mapping[str, Any]) -> Any:
        preset = form.get(param)
        if preset and preset == spec.get("custom", CUSTOM):
            return {"preset": preset, "start": form.get(f"{param}.start", ""),
                    "end": form.get(f"{param}.end", "")}
        return {"preset": preset} if preset else None

    def query(self, param: str, value: Any, spec: Mapping[str, Any]) -> Pairs:
        if not isinstance(value, Mapping):
            return super().query(param, value, spec)
        pairs = [(param, str(value.get("preset", "")))]
        if value.get("preset") == spec.get("custom", CUSTOM):
            pairs += [(f"{param}.start", str(value.get("start") or "")),
                      (f"{param}.end", str(value.get("end") or ""))]
        return pairs

    def state(self, value: Any, definition: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            return super().state(value, definition)
        return _date_state(value, str(definition.get("production_day_start") or "00:00"))

    def echo(self, value: Any) -> Any:
        return {"preset": value.get("preset"), "start": value.get("start"), "end": value.get("end")}


def _date_state(value: Mapping[str, Any], day_start: str = "00:00") -> dict[str, str]:
    """Inclusive production days shown for an applied [start, end) (days start at `day_start`)."""
    out = {"preset": str(value.get("preset") or ""), "start": "", "end": "", "label": ""}
    try:
        offset = offset_of(parse_hhmm(day_start))
        window = datetime.fromisoformat(str(value["start"])), datetime.fromisoformat(str(value["end"]))
    except (KeyError, ValueError):
        return out
    first, last = window_days(window, offset)
    out["start"], out["end"] = first.isoformat(), last.isoformat()
    out["label"] = f"{first:%d/%m/%Y}" if first == last else f"{first:%d/%m/%Y} – {last:%d/%m/%Y}"
    return out


def _num(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)
