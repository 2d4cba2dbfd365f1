"""One answer to "would this Widget_catalog row build?" for the admin API and the run.

A row the admin API accepts builds in the run; a row it refuses (written straight into the
table, as an old row or a hand edit would be) is skipped by the run with the admin's message.
The sample class reads a configurable column, so a column that exists only per detection passes
a plain column check but not the run's grain check: the case where the two used to disagree.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert, text, update

from app_fastapi.main import create_app
from core import schema_tenant as t
from engine.widget_rows import build_widget, row_problem
from tests.dashboard_support import bearer, data_days, demo_principal, line_ids
from tests.registry_samples import sample_id, widget_samples
from widgets import widget_registry
from widgets.base import BaseWidget

RUN, ADMIN = "/api/v1/dashboard/run", "/api/v1/admin/widgets"


class ColumnConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str


class UnitsByColumnWidget(BaseWidget):
    """Units per value of a configured column (a sample class, registered by the fixture)."""

    measures = frozenset({"units"})
    shape = "kpi"
    config_model = ColumnConfig
    sample_configs = ({"column": "line_code"},)

    def columns(self) -> frozenset[str]:
        return frozenset({self.config.column})

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        return {"value": int(data["units"].sum())}


@pytest.fixture
def sample_class():
    widget_registry.register(UnitsByColumnWidget)
    yield UnitsByColumnWidget
    widget_registry.unregister(UnitsByColumnWidget)


@pytest.fixture
def admin(runtime, demo_tenant, sample_class):
    with TestClient(create_app(runtime)) as client:
        client.headers.update(bearer(runtime, demo_principal(runtime)))
        yield client


def _place(runtime, slug: str, row: dict[str, Any]) -> int:
    """Write a row straight into Widget_catalog (no admin check) and place it on the dashboard."""
    with runtime.db.tenant(slug) as conn:
        row_id = conn.execute(insert(t.widget_catalog).values(sort_order=90, active=True, **row)
                              ).inserted_primary_key[0]
        layout = conn.execute(t.dashboard_layouts.select()).first()
        conn.execute(update(t.dashboard_layouts).where(t.dashboard_layouts.c.id == layout.id)
                     .values(items=[*layout.items, {"widget_id": row_id}]))
    return row_id


def _run_results(client: TestClient, runtime, slug: str) -> dict[str, dict]:
    first, last = data_days(runtime, slug)
    fecha = {"preset": "personalizado", "start": str(first - timedelta(days=1)),
             "end": str(last + timedelta(days=1))}
    res = client.post(RUN, json={"filters": {"fecha": fecha}})
    assert res.status_code == 200, res.text
    return {w["title"]: w for w in res.json()["widgets"]}


def _units(runtime, slug: str) -> int:
    with runtime.db.tenant(slug) as conn:
        return sum(int(conn.execute(text(f"SELECT COUNT(*) FROM detections_{i}")).scalar())
                   for i in line_ids(runtime, slug))


def test_a_row_the_admin_accepts_builds_in_the_run(runtime, demo_tenant, admin):
    created = admin.post(ADMIN, json={"class_name": "UnitsByColumnWidget", "title": "Por línea",
                                      "config": {"column": "line_code"}})
    assert created.status_code == 201 and created.json()["error"] is None
    with runtime.db.tenant(demo_tenant) as conn:
        layout = conn.execute(t.dashboard_layouts.select()).first()
        conn.execute(update(t.dashboard_layouts).where(t.dashboard_layouts.c.id == layout.id)
                     .values(items=[*layout.items, {"widget_id": created.json()["id"]}]))
    card = _run_results(admin, runtime, demo_tenant)["Por línea"]
    assert card["error"] is None
    assert card["data"]["value"] == _units(runtime, demo_tenant)


@pytest.mark.parametrize("row", [
    {"class_name": "UnitsByColumnWidget", "title": "Por instante", "config": {"column": "ts"}},
    {"class_name": "UnitsByColumnWidget", "title": "Sin columna", "config": {}},
    {"class_name": "os.system", "title": "Clase ajena", "config": {}},
], ids=["per-detection column", "bad config", "unknown class"])
def test_a_row_the_admin_refuses_is_skipped_by_the_run_with_the_same_message(runtime, demo_tenant, admin,
                                                                                row):
    refused = admin.post(ADMIN, json=row)
    assert refused.status_code == 422
    message = refused.json()["details"][0]["message"]
    assert message == row_problem(row) and message
    row_id = _place(runtime, demo_tenant, row)
    card = _run_results(admin, runtime, demo_tenant)[row["title"]]
    assert card["error"] == f"Widget no disponible: {message}"
    assert card.get("data") is None
    listed = {r["id"]: r["error"] for r in admin.get(ADMIN).json()}
    assert listed[row_id] == message


def test_build_widget_is_the_check_and_the_construction(sample_class):
    row = {"class_name": "UnitsByColumnWidget", "title": "t", "config": {"column": "line_code"}, "id": 7}
    widget = build_widget(row)
    assert isinstance(widget, UnitsByColumnWidget) and widget.widget_id == 7
    assert row_problem({"class_name": "UnitsByColumnWidget", "title": "t", "config": ["column"]}) == (
        "la configuración debe ser un objeto JSON")
    assert "ts" in row_problem(dict(row, config={"column": "ts"}))


@pytest.mark.parametrize(("cls", "config"), widget_samples(), ids=sample_id)
def test_every_shipped_sample_row_builds(cls, config):
    row = {"class_name": cls.__name__, "title": "Muestra", "config": config}
    assert row_problem(row) is None
    assert type(build_widget(row)) is cls
