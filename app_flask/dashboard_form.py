"""The filter panel's form (and the dashboard URL) ⇄ the engine's raw filter values.

Each filter definition from the engine carries `form: {"type": ...}`; the field type picks how
its value travels (the same names are the URL's query parameters), and a kind without one is a
single field:
- single:      `<p>` = the value
- multi:       `<p>` repeated, one id each; absent = the filter's default ("todos")
- bool:        `<p>` = "1"/"0" (a hidden "0" before the checkbox; the last value wins)
- range:       `<p>.min`, `<p>.max`
- date_range:  `<p>` = preset; `<p>.start`, `<p>.end` = days (only with the custom preset)
Only the engine validates; this module only reshapes, so forged values reach the engine's
validation and come back as its per-field messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from core.metadata_cache import parse_hhmm
from core.production_days import offset_of, window_days

CUSTOM = "personalizado"
Pairs = list[tuple[str, str]]


class MultiDict(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[str]: ...


class SingleField:
    """One form field holding the value as text."""

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


class MultiField(SingleField):
    def parse(self, param: str, form: MultiDict, spec: Mapping[str, Any]) -> Any:
        return [v for v in form.getlist(param) if v != ""] or None

    def query(self, param: str, value: Any, spec: Mapping[str, Any]) -> Pairs:
        return [(param, str(v)) for v in value] if isinstance(value, list) else [(param, str(value))]

    def state(self, value: Any, definition: Mapping[str, Any]) -> dict[str, Any]:
        return {"selected": set(value) if isinstance(value, list) else set()}

    def echo(self, value: Any) -> Any:
        return [int(v) for v in value if str(v).isdigit()]


class BoolField(SingleField):
    def parse(self, param: str, form: MultiDict, spec: Mapping[str, Any]) -> Any:
        values = form.getlist(param)
        return values[-1] if values else None


class RangeField(SingleField):
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


class DateRangeField(SingleField):
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


FIELD_TYPES: dict[str, SingleField] = {
    "single": SingleField(), "multi": MultiField(), "bool": BoolField(), "range": RangeField(),
    "date_range": DateRangeField(),
}


def _field(definition: Mapping[str, Any]) -> tuple[SingleField, Mapping[str, Any]]:
    spec = definition.get("form") or {}
    return FIELD_TYPES.get(str(spec.get("type")), FIELD_TYPES["single"]), spec


def form_to_filters(definitions: list[Mapping[str, Any]], form: MultiDict) -> dict[str, Any]:
    """Raw filter values for POST /api/v1/dashboard/run from a form or query string."""
    raw: dict[str, Any] = {}
    for d in definitions:
        field, spec = _field(d)
        value = field.parse(d["param"], form, spec)
        if value is not None:
            raw[d["param"]] = value
    return raw


def filters_to_query(definitions: list[Mapping[str, Any]], raw: Mapping[str, Any]) -> Pairs:
    """The canonical query string pairs of raw values (the shareable dashboard URL)."""
    pairs: Pairs = []
    for d in definitions:
        value = raw.get(d["param"])
        if value is not None:
            field, spec = _field(d)
            pairs += field.query(d["param"], value, spec)
    return pairs


def panel_state(definitions: list[Mapping[str, Any]], applied: Mapping[str, Any]) -> dict[str, Any]:
    """What each control shows, from the values the engine applied (or the defaults)."""
    return {d["param"]: _field(d)[0].state(applied.get(d["param"], d.get("default")), d) for d in definitions}


def as_applied(definitions: list[Mapping[str, Any]], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Echo what the user sent when the engine refused it, so the form keeps their input."""
    return {d["param"]: _field(d)[0].echo(raw[d["param"]])
            for d in definitions if raw.get(d["param"]) is not None}


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


def drill_filters(definitions: list[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per drill-down dimension ("line", "shift", "day"…), the filter a click sets: its param, form
    type, custom preset and a code → value map of its options (widgets name lines by code)."""
    out: dict[str, dict[str, Any]] = {}
    for d in definitions:
        dimension = d.get("dimension")
        if not dimension or dimension in out:
            continue
        form = d.get("form") or {}
        options = d.get("options") or []
        codes = {str(o["code"]): o["value"] for o in options if isinstance(o, Mapping) and "code" in o}
        out[dimension] = {"param": d["param"], "type": form.get("type", "single"),
                          "custom": form.get("custom"), "codes": codes}
    return out
