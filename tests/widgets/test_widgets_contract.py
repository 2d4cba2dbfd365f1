"""The widget contract: every registered class is complete, and a broken one is refused at once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import pytest
from flask import render_template
from pydantic import BaseModel

from core.errors import RegistryError
from core.settings import PROJECT_ROOT
from tests.registry_samples import sample_id, widget_samples
from widgets import widget_registry
from widgets.base import BaseWidget, new_widget_registry
from widgets.plant_data import PlantData
from widgets.shapes import get_shape, shape_names, table_of

TEMPLATES = PROJECT_ROOT / "templates"


def _classes() -> list[type[BaseWidget]]:
    return [widget_registry.get(name) for name in widget_registry.names()]


def test_every_registered_widget_has_a_config_model_a_shape_and_its_template():
    assert len(_classes()) >= 8
    for cls in _classes():
        assert issubclass(cls.config_model, BaseModel), cls
        shape = get_shape(cls.shape)
        assert (TEMPLATES / shape.template).is_file(), (cls, shape.template)


def test_every_shape_turns_the_empty_answer_into_a_header_without_rows():
    for name in shape_names():
        header, rows = table_of(name, {"empty": True})
        assert isinstance(header, list) and rows == [], name
        assert table_of(name, None)[1] == []


def _card(cls: type[BaseWidget], data: dict[str, Any]) -> dict[str, Any]:
    return {"id": 7, "class": cls.__name__, "title": "Tarjeta", "shape": cls.shape,
            "source": cls.source_type, "w": 6, "h": 2, "data": data}


def test_every_widget_renders_sin_datos_with_empty_data(flask_app):
    with flask_app.test_request_context("/"):
        for cls in _classes():
            html = render_template("partials/_widget.html", w=_card(cls, {"empty": True}))
            assert "Sin datos" in html, cls
            assert 'data-state="empty"' in html, cls


@pytest.mark.parametrize(("cls", "config"), widget_samples(), ids=sample_id)
def test_each_widget_answers_the_empty_state_for_an_empty_input(cls, config):
    widget = cls(widget_id=1, title="t", config=config)
    if cls.source_type == "internal":
        names = widget.columns() | widget.measure_columns()
        data: Any = pd.DataFrame({c: pd.Series(dtype="float64") for c in names})
    elif cls.source_type == "plant":
        moment = datetime(2026, 11, 18, 6)
        data = PlantData(start=moment, end=moment, now=moment, report={"rows": [], "totals": {}},
                         previous={"rows": [], "totals": {}}, stops=[], calendar=[], status=[])
    else:
        assert isinstance(widget.api_params(), dict)
        return  # an external widget validates its payload: covered by its own tests
    assert widget.process_data(data) == {"empty": True}


def test_the_samples_cover_every_registered_widget_and_each_config_of_its_own():
    samples = widget_samples()
    assert {cls for cls, _ in samples} == set(_classes())
    assert len(samples) > len(_classes())  # some widgets declare several behaviours


def _register(**attrs: Any) -> None:
    """Register a class built from `attrs` in a throwaway registry."""
    body = {"process_data": lambda self, data: {}, **attrs}
    new_widget_registry().register(type("Broken", (BaseWidget,), body))


@pytest.mark.parametrize(("attrs", "message"), [
    ({"source_type": "database", "required_columns": frozenset({"ts"})}, "source_type 'database'"),
    ({"source_type": "internal", "raw_rows": True}, "must declare required_columns"),
    ({"source_type": "external"}, "must declare required_api_id"),
    ({"source_type": "plant"}, "must declare plant_parts"),
    ({"required_columns": frozenset({"ts"}), "sample_configs": ()}, "sample_configs is empty"),
    ({"required_columns": frozenset({"ts"}), "sample_configs": ({"top_n": 3},)},
     "sample config {'top_n': 3} is invalid"),
    ({"source_type": "plant", "plant_parts": frozenset({"weather"})}, "unknown plant_parts ['weather']"),
    ({"required_columns": frozenset({"ts"}), "shape": "gauge3d"}, "unknown widget shape 'gauge3d'"),
    ({"required_columns": frozenset({"ts"}), "config_model": dict}, "config_model must be a pydantic model"),
    ({"required_columns": frozenset({"ts"}), "process_data": BaseWidget.process_data},
     "process_data is not implemented"),
    ({"required_columns": frozenset({"ts"}), "default_size": (13, 1)}, "outside the 12-column grid"),
])
def test_a_class_breaking_the_contract_is_refused_at_registration(attrs, message):
    with pytest.raises(RegistryError, match="widget class Broken") as info:
        _register(**attrs)
    assert message in info.value.message


def test_a_computed_column_list_counts_as_declared():
    _register(required_columns=property(lambda self: frozenset({"ts"})))


def test_the_shapes_table_forms():
    chart = {"type": "bar", "data": {"labels": ["L1", "L2"], "datasets": [
        {"label": "Unidades", "data": [3, 4]}, {"label": "Kg", "data": [1.5]}]}}
    assert table_of("chart", chart) == (["Etiqueta", "Unidades", "Kg"], [["L1", 3, 1.5], ["L2", 4, None]])
    kpi = {"value": 0.5, "unit": "%", "previous": 0.4, "change_pct": 25.0}
    assert table_of("kpi", kpi) == (["Valor", "Unidad", "Periodo anterior", "Variación %"],
                                    [[0.5, "%", 0.4, 25.0]])
    table = {"columns": [{"key": "a", "label": "A", "decimals": None}], "rows": [["x"], ["y"]]}
    assert table_of("table", table) == (["A"], [["x"], ["y"]])
    with pytest.raises(RegistryError, match="unknown widget shape"):
        table_of("nope", {})
