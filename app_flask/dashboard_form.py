"""The filter panel's form (and the dashboard URL) ⇄ the engine's raw filter values.

Field names, per filter kind (the same names are the URL's query parameters):
- date_range:    `<p>` = preset; `<p>.start`, `<p>.end` = days (only with "personalizado")
- multiselect:   `<p>` repeated, one id each; absent = the filter's default ("todos")
- toggle:        `<p>` = "1"/"0" (a hidden "0" before the checkbox; the last value wins)
- numeric_range: `<p>.min`, `<p>.max`
Only the engine validates; this module only reshapes, so forged values reach the engine's
validation and come back as its per-field messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

CUSTOM = "personalizado"


class MultiDict(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[str]: ...


def form_to_filters(definitions: list[Mapping[str, Any]], form: MultiDict) -> dict[str, Any]:
    """Raw filter values for POST /api/v1/dashboard/run from a form or query string."""
    raw: dict[str, Any] = {}
    for d in definitions:
        param, kind = d["param"], d.get("kind")
        if kind == "date_range":
            preset = form.get(param)
            if preset == CUSTOM:
                raw[param] = {"preset": CUSTOM, "start": form.get(f"{param}.start", ""),
                              "end": form.get(f"{param}.end", "")}
            elif preset:
                raw[param] = {"preset": preset}
        elif kind == "multiselect":
            values = [v for v in form.getlist(param) if v != ""]
            if values:
                raw[param] = values
        elif kind == "toggle":
            values = form.getlist(param)
            if values:
                raw[param] = values[-1]
        elif kind == "numeric_range":
            low, high = form.get(f"{param}.min", ""), form.get(f"{param}.max", "")
            if low or high:
                raw[param] = {"min": low or None, "max": high or None}
        elif form.get(param) not in (None, ""):
            raw[param] = form.get(param)
    return raw


def filters_to_query(definitions: list[Mapping[str, Any]], raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The canonical query string pairs of raw values (the shareable dashboard URL)."""
    pairs: list[tuple[str, str]] = []
    for d in definitions:
        param, kind = d["param"], d.get("kind")
        value = raw.get(param)
        if value is None:
            continue
        if kind == "date_range" and isinstance(value, Mapping):
            pairs.append((param, str(value.get("preset", ""))))
            if value.get("preset") == CUSTOM:
                pairs += [(f"{param}.start", str(value.get("start") or "")),
                          (f"{param}.end", str(value.get("end") or ""))]
        elif kind == "multiselect" and isinstance(value, list):
            pairs += [(param, str(v)) for v in value]
        elif kind == "numeric_range" and isinstance(value, Mapping):
            pairs += [(f"{param}.{k}", str(value[k])) for k in ("min", "max") if value.get(k)]
        else:
            pairs.append((param, str(value)))
    return pairs


def panel_state(definitions: list[Mapping[str, Any]], applied: Mapping[str, Any]) -> dict[str, Any]:
    """What each control shows, from the values the engine applied (or the defaults)."""
    state: dict[str, Any] = {}
    for d in definitions:
        param, kind = d["param"], d.get("kind")
        value = applied.get(param, d.get("default"))
        if kind == "date_range" and isinstance(value, Mapping):
            state[param] = _date_state(value, str(d.get("production_day_start") or "00:00"))
        elif kind == "multiselect":
            state[param] = {"selected": set(value) if isinstance(value, list) else set()}
        elif kind == "numeric_range" and isinstance(value, Mapping):
            state[param] = {"min": _num(value.get("min")), "max": _num(value.get("max"))}
        else:
            state[param] = {"value": value}
    return state


def _date_state(value: Mapping[str, Any], day_start: str = "00:00") -> dict[str, str]:
    """Inclusive production days shown for an applied [start, end) (days start at `day_start`)."""
    out = {"preset": str(value.get("preset") or ""), "start": "", "end": "", "label": ""}
    try:
        hours, minutes = (int(part) for part in day_start.split(":"))
        offset = timedelta(hours=hours, minutes=minutes)
        start = datetime.fromisoformat(str(value["start"])) - offset
        end = datetime.fromisoformat(str(value["end"])) - offset
    except (KeyError, ValueError):
        return out
    last = end - timedelta(days=1) if end.time() == datetime.min.time() else end
    last = max(start, last)
    out["start"], out["end"] = start.date().isoformat(), last.date().isoformat()
    same_day = last.date() == start.date()
    out["label"] = f"{start:%d/%m/%Y}" if same_day else f"{start:%d/%m/%Y} – {last:%d/%m/%Y}"
    return out


def _num(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)
