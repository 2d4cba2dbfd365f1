"""The page server's blueprints are one explicit list in its factory: no view module is left out."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from flask import Blueprint

import app_flask.views


@pytest.mark.parametrize("backend", ["sqlite"])  # the blueprints do not depend on the database
def test_every_view_module_blueprint_is_registered(flask_app):
    registered = set(flask_app.blueprints.values())
    modules = [importlib.import_module(f"app_flask.views.{info.name}")
               for info in pkgutil.iter_modules(app_flask.views.__path__)]
    blueprints = [m.bp for m in modules if isinstance(getattr(m, "bp", None), Blueprint)]
    assert len(blueprints) >= 10
    assert set(blueprints) <= registered
