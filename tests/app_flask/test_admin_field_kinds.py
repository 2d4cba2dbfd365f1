"""The admin field kinds: one registry read by both admin form builders."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from app_flask.admin_field_kinds import OMIT, field_kind_registry, read_field
from app_flask.admin_forms import schema_fields
from app_flask.plant_forms import KINDS, form_body
from core.errors import RegistryError


def test_every_field_of_both_form_builders_names_a_registered_kind():
    plant = {f.kind for kind in KINDS.values() for f in kind.fields}
    schema = {"properties": {
        "a": {"type": "string"}, "b": {"enum": ["x"]}, "c": {"type": "integer"}, "d": {"type": "boolean"},
        "e": {"type": "array", "items": {"enum": ["x"]}},
        "f": {"type": "array", "items": {"type": "string"}}}}
    config = {f.kind for f in schema_fields(schema, None)}
    assert config == {"text", "select", "number", "checkbox", "multiselect", "csv"}
    assert plant | config <= set(field_kind_registry.names())


def test_an_unknown_kind_is_a_registry_error_naming_the_known_ones():
    with pytest.raises(RegistryError, match=r"unknown admin field kind 'colour' \(known: breaks, "):
        read_field("colour", MultiDict(), "x")


@pytest.mark.parametrize(("kind", "sent", "required", "value"), [
    ("text", " a ", False, "a"), ("text", "", False, OMIT), ("text", "", True, ""),
    ("number", "3", False, 3), ("number", "3.0", False, 3.0), ("number", "2,5", False, "2,5"),
    ("integer", "3.0", False, 3), ("integer", "3.5", False, 3.5), ("integer", "", True, ""),
    ("checkbox", None, True, False), ("checkbox", "on", False, True),
    ("csv", " a, b ,,", False, ["a", "b"]), ("select", "", False, OMIT),
])
def test_each_kind_reads_its_value(kind, sent, required, value):
    form = MultiDict([] if sent is None else [("x", sent)])
    assert read_field(kind, form, "x", required) == value


def test_a_shift_form_becomes_the_loaders_body():
    form = MultiDict([("code", "m"), ("name", "Mañana"), ("start", "06:00"), ("end", "14:00"),
                      ("weekdays", "1"), ("weekdays", "5"), ("weekdays", "x"),
                      ("break_name", "Almuerzo"), ("break_start", "10:00"), ("break_end", "10:30"),
                      ("break_name", ""), ("break_start", ""), ("break_end", "")])
    assert form_body(KINDS["turnos"], form) == {
        "code": "m", "name": "Mañana", "start": "06:00", "end": "14:00", "weekdays": [1, 5],
        "breaks": [{"name": "Almuerzo", "start": "10:00", "end": "10:30"}]}
    line = MultiDict([("code", "L9"), ("name", "Línea 9"), ("area", "a"), ("ideal_rate_per_min", "70.5"),
                      ("micro_stop_s", "20")])
    assert form_body(KINDS["lineas"], line) == {"code": "L9", "name": "Línea 9", "area": "a",
                                                "ideal_rate_per_min": 70.5, "micro_stop_s": 20,
                                                "active": False}
