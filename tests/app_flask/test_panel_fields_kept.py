"""The panel's fields travel with each apply; anything but the expected shape means "ask the engine"."""

from __future__ import annotations

import json

import pytest
from werkzeug.datastructures import MultiDict

from app_flask.views.dashboard import FIELDS, MAX_FIELDS, kept_fields, panel_fields

DEFINITIONS = [
    {"param": "fecha", "label": "Fecha", "form": {"type": "date_range", "custom": "personalizado"},
     "options": [{"value": "hoy"}]},
    {"param": "lineas", "label": "Líneas", "form": {"type": "multi"}},
    {"param": "nota", "label": "Nota"},
]


def test_the_rendered_fields_come_back_as_they_were_sent():
    sent = panel_fields(DEFINITIONS)
    assert json.loads(sent) == [{"param": "fecha", "form": {"type": "date_range", "custom": "personalizado"}},
                                {"param": "lineas", "form": {"type": "multi"}},
                                {"param": "nota", "form": {}}]
    assert kept_fields(MultiDict({FIELDS: sent})) == json.loads(sent)


@pytest.mark.parametrize("value", [
    None, "", "not json", "{}", '"text"', '[{"param": 1, "form": {}}]', '[{"param": "a"}]',
    '[{"param": "a", "form": []}]', "[1]", json.dumps([{"param": "a", "form": {}}] * (MAX_FIELDS + 1)),
])
def test_a_missing_or_malformed_value_asks_the_engine(value):
    form = MultiDict({} if value is None else {FIELDS: value})
    assert kept_fields(form) is None
