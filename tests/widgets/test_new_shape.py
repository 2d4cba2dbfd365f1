"""A new widget shape is one Python module plus one template, and nothing else in the product.

The module and the template are written to a temporary folder here: importing the module
registers the shape (its rows for exports, its template name), a widget may then name it, and
the page renders its card with the template handed to the Flask factory.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from core.errors import RegistryError
from widgets.base import BaseWidget, new_widget_registry
from widgets.shapes import get_shape, shape_names, shape_registry, table_of

SHAPE_MODULE = '''
"""The `ring` shape: one percentage drawn as a ring."""

from typing import Any

from widgets.shapes import Table, shape


@shape("ring")
def ring_rows(data: dict[str, Any]) -> Table:
    """One row: the percentage."""
    return ["Anillo %"], ([] if data.get("empty") else [[data["value"]]])
'''

SHAPE_TEMPLATE = '<svg class="ring" data-ring="{{ w.data.value }}" role="img"></svg>\n'


def _import(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("camet_test_ring_shape", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def ring_plugin(tmp_path: Path):
    """The two files of the new shape, the module imported (so the shape is registered)."""
    (tmp_path / "ring_shape.py").write_text(textwrap.dedent(SHAPE_MODULE), encoding="utf-8")
    partials = tmp_path / "templates" / "partials" / "widgets"
    partials.mkdir(parents=True)
    (partials / "_ring.html").write_text(SHAPE_TEMPLATE, encoding="utf-8")
    assert "ring" not in shape_names()
    _import(tmp_path / "ring_shape.py")
    yield tmp_path / "templates"
    shape_registry.unregister(get_shape("ring"))
    sys.modules.pop("camet_test_ring_shape", None)


def _ring_widget() -> type[BaseWidget]:
    def process_data(self: BaseWidget, data: object) -> dict:
        return {"value": 40}

    return type("RingWidget", (BaseWidget,), {"required_columns": frozenset({"is_reject"}),
                                             "shape": "ring", "process_data": process_data})


@pytest.mark.parametrize("backend", ["sqlite"])  # templates only: one backend is enough
def test_a_new_shape_is_one_module_and_one_template(runtime, ring_plugin):
    from flask import render_template

    from app_flask.factory import create_app

    assert get_shape("ring").template == "partials/widgets/_ring.html"
    assert table_of("ring", {"value": 40}) == (["Anillo %"], [[40]])
    assert table_of("ring", None) == (["Anillo %"], [])
    widget_cls = new_widget_registry().register(_ring_widget())  # a widget may name the new shape
    data = widget_cls(widget_id=3, title="Anillo").process_data(None)
    card = {"id": 3, "title": "Anillo", "w": 4, "h": 1, "shape": "ring", "data": data, "error": None,
            "class": "RingWidget", "source": "internal"}
    app = create_app(runtime, template_dirs=[ring_plugin])
    with app.test_request_context("/"):
        html = render_template("partials/_widget.html", w=card)
    assert 'data-shape="ring"' in html and '<svg class="ring" data-ring="40"' in html
    assert "<pre" not in html, "the shape's own template drew the card, not the default one"


def test_without_its_module_the_shape_is_unknown_to_widgets():
    with pytest.raises(RegistryError, match="unknown widget shape 'ring'"):
        new_widget_registry().register(_ring_widget())
