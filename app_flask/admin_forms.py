"""Config forms generated from a class's JSON schema (the engine's GET /admin/classes).

Simple properties become form fields: string → text input, enum → select, integer/number →
number input, boolean → checkbox, array of enum → multi-select, array of strings → a
comma-separated input. Anything else is edited in the JSON textarea ("modo experto"), which
also carries the keys the fields do not show. The engine validates the result; this module
only turns the form into JSON and never decides what is valid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app_flask.admin_field_kinds import OMIT, FormData, read_field
from identity.json_depth import TOO_DEEP, json_too_deep

FIELD_PREFIX = "cfg."


@dataclass
class ConfigField:
    """One generated input of the config form."""

    name: str
    label: str
    kind: str  # a name in admin_field_kinds: text | select | number | checkbox | multiselect | csv
    value: Any = None
    options: list[str] = field(default_factory=list)
    step: str = "any"
    minimum: Any = None
    maximum: Any = None
    help: str = ""

    @property
    def input_name(self) -> str:
        return FIELD_PREFIX + self.name


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Follow a $ref and unwrap Optional (anyOf [X, null]) to the property's own schema."""
    if "$ref" in prop:
        target = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
        prop = {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
    options = [p for p in prop.get("anyOf", []) if p.get("type") != "null"]
    if len(options) == 1:
        prop = {**prop, **_resolve(options[0], defs)}
    return prop


def _kind(prop: dict[str, Any], defs: dict[str, Any]) -> str | None:
    if "const" in prop:
        return None
    if "enum" in prop:
        return "select"
    kind = prop.get("type")
    if kind == "array":
        items = _resolve(prop.get("items", {}), defs)
        if "enum" in items:
            return "multiselect"
        return "csv" if items.get("type") == "string" else None
    return {"string": "text", "integer": "number", "number": "number", "boolean": "checkbox"}.get(kind)


def schema_fields(schema: dict[str, Any], config: dict[str, Any] | None) -> list[ConfigField]:
    """The form fields of a config schema, filled with `config` (else the schema defaults)."""
    config = config if isinstance(config, dict) else {}
    defs = schema.get("$defs", {})
    out = []
    for name, raw in schema.get("properties", {}).items():
        prop = _resolve(raw, defs)
        kind = _kind(prop, defs)
        if kind is None:
            continue
        value = config.get(name, prop.get("default"))
        options = prop.get("enum") or _resolve(prop.get("items", {}), defs).get("enum") or []
        out.append(ConfigField(
            name=name, label=prop.get("title") or name, kind=kind, value=value,
            options=[str(o) for o in options], step="1" if prop.get("type") == "integer" else "any",
            minimum=prop.get("minimum"), maximum=prop.get("maximum"), help=prop.get("description", "")))
    return out


def form_config(schema: dict[str, Any], form: FormData) -> tuple[dict[str, Any] | None, str | None]:
    """(config, problem): from the JSON textarea in expert mode, else JSON keys + the fields."""
    text = (form.get("config_json") or "").strip()
    if json_too_deep(text):
        return None, TOO_DEEP
    try:
        base = json.loads(text) if text else {}
    except ValueError as exc:
        return None, f"El JSON de la configuración no es válido: {exc.msg} (línea {exc.lineno})"
    if not isinstance(base, dict):
        return None, "La configuración debe ser un objeto JSON ({...})."
    if form.get("expert"):
        return base, None
    config = dict(base)
    for f in schema_fields(schema, None):
        config.pop(f.name, None)
        value = read_field(f.kind, form, f.input_name)
        if value is not OMIT:
            config[f.name] = value
    return config, None
