"""One error tree: every exception class of the product derives from CametError and is drawn in
core/errors.py's docstring; 5xx domain errors are logged; row limits and timeouts speak Spanish."""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil

import pytest
from fastapi.testclient import TestClient

from core import errors
from core.errors import CametError, QueryTimeout
from core.settings import PROJECT_ROOT
from query.readers.base import too_many_rows
from query.readers.deadline import query_timeout

PACKAGES = ("core", "query", "identity", "ingest", "filters", "widgets", "broker", "jobs",
            "rollups", "stops", "engine", "app_fastapi", "app_flask", "cli")
# The homes of error classes: domain errors in core/errors.py, the page app's own in
# app_flask/errors.py; DatabaseCircuitOpen is also a PyMySQL error and stays beside the driver code.
ERROR_MODULES = {"core.errors", "app_flask.errors"}
OWN_HOME = {"DatabaseCircuitOpen": "core.db_circuit"}


def product_modules() -> list:
    modules = []
    for package in PACKAGES:
        if not (PROJECT_ROOT / package / "__init__.py").exists():
            continue
        pkg = importlib.import_module(package)
        modules.append(pkg)
        for info in pkgutil.walk_packages(pkg.__path__, package + "."):
            modules.append(importlib.import_module(info.name))
    return modules


def product_exceptions() -> set[type[BaseException]]:
    found = set()
    for module in product_modules():
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__.split(".")[0] in PACKAGES:
                found.add(obj)
    return found


def test_every_exception_class_derives_from_camet_error():
    classes = product_exceptions()
    assert errors.QueryTimeout in classes and len(classes) > 10
    strays = sorted(c.__qualname__ for c in classes if not issubclass(c, CametError))
    assert strays == []


def test_every_error_class_lives_in_an_error_module():
    homes = {c.__qualname__: c.__module__ for c in product_exceptions()}
    assert homes["RunLost"] == "core.errors" and homes["EngineError"] == "app_flask.errors"
    strays = sorted(f"{name} in {module}" for name, module in homes.items()
                    if module not in ERROR_MODULES and OWN_HOME.get(name) != module)
    assert strays == []


def test_the_docstring_draws_every_error_class():
    drawn = errors.__doc__ or ""
    missing = sorted(c.__name__ for c in product_exceptions() if c.__name__ not in drawn)
    assert missing == []


def test_limits_and_timeouts_reach_managers_in_spanish():
    rows = too_many_rows(5_000_000, 7_250_000)
    assert rows.status_code == 413
    assert rows.message.startswith("La selección tiene 7.250.000 detecciones; el límite es 5.000.000.")
    late = query_timeout(30)
    assert late.status_code == 504 and late.message.startswith("La consulta tardó más de 30 s")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_engine_logs_5xx_domain_errors_but_not_4xx(runtime, caplog):
    from app_fastapi.main import create_app

    app = create_app(runtime)

    @app.get("/boom/{status}")
    def boom(status: int) -> None:
        raise QueryTimeout("tardó demasiado") if status == 504 else errors.NotFound("no está")

    with TestClient(app) as client, caplog.at_level(logging.ERROR, logger="app_fastapi.main"):
        assert client.get("/boom/404").status_code == 404
        assert caplog.records == []
        answer = client.get("/boom/504")
    assert answer.status_code == 504 and answer.json()["message"] == "tardó demasiado"
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "QueryTimeout" in caplog.records[0].getMessage()
