"""Config forms generated from the registered classes' JSON schemas (pure functions)."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from app_flask.admin_forms import form_config, schema_fields
from filters import filter_registry
from widgets import widget_registry


def schema(registry, name):
    return registry.get(name).config_model.model_json_schema()


def test_fields_follow_the_schema_types():
    fields = {f.name: f for f in schema_fields(schema(filter_registry, "DateRangeFilter"), {"max_days": 31})}
    assert fields["default_preset"].kind == "select" and "hoy" in fields["default_preset"].options
    assert fields["max_days"].kind == "number" and fields["max_days"].value == 31
    assert (fields["max_days"].step, fields["max_days"].minimum, fields["max_days"].maximum) == ("1", 1, 3660)
    assert fields["presets"].kind == "multiselect"
    numeric = {f.name: f for f in schema_fields(schema(filter_registry, "NumericRangeFilter"), None)}
    assert "column" not in numeric, "a const has nothing to choose"
    assert numeric["min"].kind == "number" and numeric["min"].step == "any" and numeric["unit"].kind == "text"
    assert schema_fields(schema(filter_registry, "LineFilter"), None)[0].kind == "checkbox"
    assert schema_fields(schema(filter_registry, "ProductFilter"), None)[0].kind == "csv"
    assert schema_fields(schema(widget_registry, "LineSummaryWidget"), None) == []


def test_form_to_config_and_expert_json():
    s = schema(filter_registry, "DateRangeFilter")
    form = MultiDict([("cfg.default_preset", "hoy"), ("cfg.max_days", "31"), ("cfg.presets", "hoy"),
                      ("cfg.presets", "ayer"), ("config_json", '{"max_days": 5, "otro": 1}')])
    assert form_config(s, form) == ({"default_preset": "hoy", "max_days": 31, "presets": ["hoy", "ayer"],
                                     "otro": 1}, None)
    form["expert"] = "1"
    assert form_config(s, form) == ({"max_days": 5, "otro": 1}, None)
    products = schema(filter_registry, "ProductFilter")
    assert form_config(products, MultiDict([("cfg.depends_on", "lineas, areas ,")]))[0] == {
        "depends_on": ["lineas", "areas"]}
    assert form_config(schema(filter_registry, "LineFilter"), MultiDict())[0] == {"include_inactive": False}
    config, problem = form_config(s, MultiDict([("config_json", "[1, 2")]))
    assert config is None and "JSON" in problem
    assert form_config(s, MultiDict([("config_json", "[1]")]))[1].startswith("La configuración debe")
