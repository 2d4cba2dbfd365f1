"""The filter panel's form (and the dashboard URL) ⇄ the engine's raw filter values.

Each filter definition from the engine carries `form: {"type": ...}`; the field type
(panel_fields.py) picks how its value travels (the same names are the URL's query parameters),
and a kind without one is a single field:
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
from typing import Any

from app_flask.panel_fields import MultiDict, Pairs, PanelField, field_type


def _field(definition: Mapping[str, Any]) -> tuple[PanelField, Mapping[str, Any]]:
    spec = definition.get("form") or {}
    return field_type(spec.get("type")), spec


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
