"""The demo ERP and its two widgets: plan vs actual (ERP + master frame) and open orders."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from app_fastapi.main import create_app
from core import schema_tenant as t
from core.settings import PROJECT_ROOT
from tests.dashboard_support import bearer, data_days, demo_principal, line_ids
from widgets.base import CombinedData, WidgetContext
from widgets.open_orders import OpenOrdersWidget
from widgets.plan_vs_actual import PlanVsActualWidget

RUN = "/api/v1/dashboard/run"
FIRST_SHIFT = time(6, 0)  # the demo plant's production day starts with the 06:00 shift


def test_plan_vs_actual_joins_the_plan_with_counts_per_production_day():
    frame = pd.DataFrame({
        "line_code": ["L1", "L1", "L1", "L2"],
        "line_name": ["Línea 1", "Línea 1", "Línea 1", "Línea 2"],
        "shift_date": pd.to_datetime(["2026-11-17", "2026-11-17", "2026-11-18", "2026-11-17"]),
        "units": [1, 1, 1, 1],  # a grained frame: rows need not be unique per (day, line)
    })
    payload = {"plans": [{"date": "2026-11-17", "line": "L1", "planned_units": 4},
                         {"date": "2026-11-17", "line": "L2", "planned_units": 0},
                         {"date": "2026-11-18", "line": "L1", "planned_units": 2},
                         {"date": "2026-11-18", "line": "L3", "planned_units": 10}]}
    widget = PlanVsActualWidget(widget_id=1, title="plan")
    out = widget.process_data(CombinedData(frame=frame, payload=payload))
    assert out["rows"] == [["2026-11-17", "Línea 1", 4, 2, 50.0], ["2026-11-17", "Línea 2", 0, 1, None],
                           ["2026-11-18", "Línea 1", 2, 1, 50.0], ["2026-11-18", "L3", 10, 0, 0.0]]


def test_plan_vs_actual_asks_for_the_applied_days():
    context = WidgetContext(time_range=(datetime(2026, 11, 10), datetime(2026, 11, 17)))
    widget = PlanVsActualWidget(widget_id=1, title="plan", context=context)
    assert widget.api_params() == {"start": "2026-11-10", "end": "2026-11-16"}
    assert widget.columns() == {"line_code", "line_name", "shift_date"}


def test_open_orders_lists_unfinished_orders_by_due_date():
    payload = {"orders": [
        {"id": "B", "line": "L2", "product_name": "b", "quantity": 100, "produced": 25, "due": "2026-11-20"},
        {"id": "A", "line": "L1", "product_name": "a", "quantity": 50, "produced": 50, "due": "2026-11-18"},
        {"id": "C", "line": "L1", "product_name": "c", "quantity": 10, "produced": 0, "due": "2026-11-19"},
    ]}
    out = OpenOrdersWidget(widget_id=2, title="ordenes").process_data(payload)
    assert [r[0] for r in out["rows"]] == ["C", "B"]
    assert out["rows"][1][-1] == 25.0
    with pytest.raises(Exception, match="respuesta inválida del proveedor"):
        OpenOrdersWidget(widget_id=2, title="ordenes").process_data({"orders": [{"id": 1}]})


def test_demo_erp_widgets_with_the_shipped_manifest(runtime, demo_tenant):
    assert runtime.settings.external_apis_file == PROJECT_ROOT / "config" / "external_apis.yml"
    client = TestClient(create_app(runtime))
    client.headers.update(bearer(runtime, demo_principal(runtime)))
    first, last = data_days(runtime, demo_tenant)
    fecha = {"preset": "personalizado", "start": first.isoformat(), "end": last.isoformat()}
    body = client.post(RUN, json={"filters": {"fecha": fecha}}).json()
    widgets = {w["class"]: w for w in body["widgets"]}
    plan_widget, orders_widget = widgets["PlanVsActualWidget"], widgets["OpenOrdersWidget"]
    assert plan_widget["error"] is None and orders_widget["error"] is None

    plans = client.get("/api/v1/demo/erp/plans", params={"start": first.isoformat(),
                                                         "end": last.isoformat()}).json()
    assert plans["demo"] is True
    expected_plan = {(p["date"], p["line"]): p["planned_units"] for p in plans["plans"]}
    rows = plan_widget["data"]["rows"]
    assert len(rows) == len(expected_plan) == 4 * ((last - first).days + 1)
    lines = {code: (line_id, name) for line_id, code, name in line_table(runtime, demo_tenant)}
    by_name = {name: code for code, (_, name) in lines.items()}
    range_lo = datetime.combine(first, time())
    range_hi = datetime.combine(last + timedelta(days=1), time())
    for day, name, plan, actual, _share in rows:
        code = by_name[name]
        assert plan == expected_plan[(day, code)]
        assert actual == production_day_count(runtime, demo_tenant, lines[code][0],
                                              date.fromisoformat(day), range_lo, range_hi)
    assert sum(r[3] for r in rows) > 0

    orders = client.get("/api/v1/demo/erp/orders").json()["orders"]
    assert [r[0] for r in orders_widget["data"]["rows"]] == [
        o["id"] for o in sorted(orders, key=lambda o: (o["due"], o["id"]))][:12]


def line_table(rt, slug: str) -> list[tuple[int, str, str]]:
    with rt.db.tenant(slug) as conn:
        query = select(t.lines.c.id, t.lines.c.code, t.lines.c.name).order_by(t.lines.c.id)
        return [tuple(r) for r in conn.execute(query)]


def production_day_count(rt, slug: str, line_id: int, day: date, lo: datetime, hi: datetime) -> int:
    """Plain SQL: the line's detections from `day` 06:00 to the next 06:00, within the filter."""
    start = max(lo, datetime.combine(day, FIRST_SHIFT))
    end = min(hi, datetime.combine(day + timedelta(days=1), FIRST_SHIFT))
    assert line_id in line_ids(rt, slug)
    with rt.db.tenant(slug) as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM detections_{line_id} WHERE ts >= :a AND ts < :b"),
                                {"a": start, "b": end}).scalar())
