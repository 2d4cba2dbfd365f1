"""A new filter kind, "Horas" (an hour-of-day range), is one Python file, one template and one
import line, and it narrows every widget, the plant ones included, through the filter contract.

The kind lives in tests/filters/hour_range_kind/: `hour_range.py` (the class), its panel
template, and an `__init__.py` that is the one import line (the role `filters/__init__.py`
plays for shipped kinds). Nothing in the product names it. On the hand-made stoppage dataset
(tests/stops_dataset.py) the run with "Horas 21–01" is checked against a per-second count over
the dataset's own gaps and shifts, and against plain SQL over the detections.
"""

from __future__ import annotations

import ast
import importlib
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text

from cli.defaults import install_tenant_defaults
from core import schema_tenant as t
from core.settings import PROJECT_ROOT
from filters.base import filter_registry
from jobs.runs import run_by_hand
from tests import stops_dataset as ds
from tests.stops_support import SLUG, build_stops_tenant, token

KIT = Path(__file__).parent / "hour_range_kind"
PRODUCT = ("core", "query", "filters", "widgets", "broker", "jobs", "ingest", "identity", "engine",
           "app_fastapi", "app_flask", "cli", "templates", "static")
HOURS = {"min": 21, "max": 1}  # 21:00 → 01:00, over midnight
BREAKS = ((10, 0, 10, 20), (18, 0, 18, 20), (2, 0, 2, 20))  # the dataset's planned breaks
THRESHOLD_S = 120  # the dataset's stop threshold


@pytest.fixture
def hour_kind():
    """The kit imported by its one import line; its class leaves the registry afterwards."""
    kit = importlib.import_module("tests.filters.hour_range_kind")
    cls = kit.hour_range.HourRangeFilter
    if cls.__name__ not in filter_registry:
        filter_registry.register(cls)  # imported by an earlier test: the decorator ran already
    yield cls
    filter_registry.unregister(cls)


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.mark.parametrize("backend", ["sqlite"])  # reads files only
def test_the_kind_is_one_file_one_template_and_one_import_line(backend):
    assert _files(KIT) == {"__init__.py", "hour_range.py", "templates/partials/filters/_hour_range.html"}
    init = ast.parse((KIT / "__init__.py").read_text())
    assert len(init.body) == 1 and isinstance(init.body[0], ast.ImportFrom)
    imported = {node.module for node in ast.walk(ast.parse((KIT / "hour_range.py").read_text()))
                if isinstance(node, ast.ImportFrom)}
    ours = {m for m in imported if m.split(".")[0] in PRODUCT}
    assert ours == {"filters.base", "query.spec", "query.sql_time"}, "only the filter contract"
    sources = [p for folder in PRODUCT for p in (PROJECT_ROOT / folder).rglob("*")
               if p.is_file() and p.suffix in (".py", ".html", ".js")]
    assert len(sources) > 100
    mentions = [str(p.relative_to(PROJECT_ROOT)) for p in sources
                if "hour_range" in (body := p.read_text(errors="ignore")) or "HourRange" in body]
    assert mentions == [], "the product does not know the kind"


@pytest.mark.parametrize("backend", ["sqlite"])  # templates only
def test_the_panel_renders_the_kinds_template(runtime, plant_tenant, hour_kind):
    from app_flask.factory import create_app
    from app_flask.views.dashboard import panel_fields

    meta = runtime.meta.get(plant_tenant)
    definition = hour_kind(param="horas", label="Horas", config={}, meta=meta).describe()
    app = create_app(runtime, template_dirs=[KIT / "templates"])
    with app.test_request_context("/"):
        from flask import render_template

        panel = render_template("partials/_filter_panel.html", filters=[definition],
                                state={"horas": {"min": "21", "max": "1"}}, field_errors=[],
                                filter_problems=[], panel_fields=panel_fields([definition]))
    assert 'data-kind="hour_range"' in panel
    assert '<option value="21" selected>21:00</option>' in panel
    assert '<option value="1" selected>01:00</option>' in panel
    assert 'name="horas.min"' in panel and 'name="horas.max"' in panel


@pytest.fixture
def plant_api(runtime, clock, engine_app, hour_kind):
    build_stops_tenant(runtime, clock)
    install_tenant_defaults(runtime, SLUG, replace=True)
    with runtime.db.tenant(SLUG) as conn:
        conn.execute(insert(t.filters_table).values(class_name="HourRangeFilter", param_name="horas",
                                                    label="Horas", config={}, sort_order=90, active=True))
    runtime.meta.invalidate(SLUG)
    assert run_by_hand(runtime, "gap-analysis", SLUG)[0].status == "ok"
    client = TestClient(engine_app)
    client.headers.update(token(runtime))
    return client


def _kept(moment: datetime) -> bool:
    """Inside the chosen hours (21:00–01:00)."""
    return moment.hour >= 21 or moment.hour < 1


def _planned(moment: datetime) -> bool:
    """Inside the dataset's planned time: every shift works on Tuesday 17 and Wednesday 18,
    so only the breaks are holes."""
    minutes = moment.hour * 60 + moment.minute
    return not any(h0 * 60 + m0 <= minutes < h1 * 60 + m1 for h0, m0, h1, m1 in BREAKS)


def _shift(moment: datetime) -> str:
    return "manana" if 6 <= moment.hour < 14 else "tarde" if 14 <= moment.hour < 22 else "noche"


def _day_of_d() -> list[datetime]:
    """Every second of production day D (06:00 D → 06:00 D+1)."""
    start = datetime.combine(ds.D, datetime.min.time()) + timedelta(hours=6)
    return [start + timedelta(seconds=s) for s in range(24 * 3600)]


def _by_hand() -> dict[str, float]:
    """Planned seconds, downtime seconds and stop pieces of day D inside the hours, counted second
    by second from the dataset's shifts and gaps (gap analysis splits a stop per shift instance)."""
    seconds = [s for s in _day_of_d() if _kept(s) and _planned(s)]
    planned = len(seconds)
    downtime, pieces = 0, set()
    for g_start, g_end in ds.GAPS:
        if (g_end - g_start).total_seconds() <= THRESHOLD_S:
            continue
        for s in seconds:
            if g_start <= s < g_end:
                downtime += 1
                pieces.add((g_start, _shift(s)))
    return {"planned_s": planned, "downtime_s": downtime, "stops": len(pieces)}


def _counts(runtime, line_id: int) -> tuple[int, int]:
    """(units, good) of the detections in 21:00 D → 01:00 D+1, by plain SQL."""
    lo = datetime.combine(ds.D, datetime.min.time()) + timedelta(hours=21)
    with runtime.db.tenant(SLUG) as conn:
        row = conn.execute(text(f"SELECT COUNT(*), SUM(CASE WHEN status = 0 THEN 1 ELSE 0 END) "
                                f"FROM detections_{line_id} WHERE ts >= :lo AND ts < :hi"),
                           {"lo": lo, "hi": lo + timedelta(hours=4)}).one()
    return int(row[0]), int(row[1] or 0)


def _run(client: TestClient, **extra) -> dict:
    fecha = {"preset": "personalizado", "start": ds.D.isoformat(), "end": ds.D.isoformat()}
    res = client.post("/api/v1/dashboard/run", json={"filters": {"fecha": fecha, **extra}})
    assert res.status_code == 200, res.text
    return {(w["class"], w["data"].get("metric") or w["title"]): w["data"] for w in res.json()["widgets"]
            if w.get("data")}


def test_hours_narrow_oee_stops_and_detections(plant_api, runtime):
    line_id = runtime.meta.get(SLUG).lines_by_code["T1"].id
    hand = _by_hand()
    assert (hand["planned_s"], hand["downtime_s"], hand["stops"]) == (14_400, 3_600, 3)
    units, good = _counts(runtime, line_id)
    whole = _run(plant_api)
    out = _run(plant_api, horas=HOURS)

    availability = (hand["planned_s"] - hand["downtime_s"]) / hand["planned_s"]
    assert out[("OeeCardWidget", "availability")]["value"] == pytest.approx(100 * availability, abs=1e-9)
    oee = good * 10 / hand["planned_s"]  # ideal cycle 10 s
    assert out[("OeeCardWidget", "oee")]["value"] == pytest.approx(100 * oee, abs=1e-9)
    assert out[("OeeCardWidget", "quality")]["value"] == pytest.approx(100 * good / units, abs=1e-9)
    assert out[("DowntimeCardWidget", "stops")]["value"] == hand["stops"]
    assert out[("DowntimeCardWidget", "micro_stops")]["value"] == 0
    assert out[("DowntimeCardWidget", "downtime_min")]["value"] == pytest.approx(hand["downtime_s"] / 60)
    assert out[("KpiWidget", "units")]["value"] == units  # a detection widget narrows too

    day = [ds.EXPECTED[(ds.D, s)] for s in ("manana", "tarde", "noche")]
    assert whole[("DowntimeCardWidget", "stops")]["value"] == sum(p["stops"] for p in day)
    assert whole[("DowntimeCardWidget", "downtime_min")]["value"] == pytest.approx(
        sum(p["downtime_s"] for p in day) / 60)
    assert whole[("KpiWidget", "units")]["value"] == sum(p["units"] for p in day)


def test_hours_narrow_the_stops_list_and_the_pareto(plant_api, runtime):
    hand = _by_hand()
    fecha = {"preset": "personalizado", "start": ds.D.isoformat(), "end": ds.D.isoformat()}
    res = plant_api.post("/api/v1/stops/search", json={"filters": {"fecha": fecha, "horas": HOURS}})
    assert res.status_code == 200, res.text
    stops = [s for s in res.json()["stops"] if s["kind"] == "stop"]
    assert len(stops) == hand["stops"]
    assert sum(s["downtime_s"] for s in stops) == pytest.approx(hand["downtime_s"])
    assert res.json()["filters"]["horas"] == HOURS
    out = _run(plant_api, horas=HOURS)
    for title in ("Minutos de parada por línea (Pareto)", "Minutos de parada por motivo (Pareto)"):
        pareto = out[("StopsParetoWidget", title)]
        assert pareto["options"]["total_min"] == pytest.approx(hand["downtime_s"] / 60), title


def test_the_page_carries_the_hours_to_the_engine(plant_api, runtime, engine_app):
    """The page's form carries the kind's value (its `form` type) and renders its template."""
    from a2wsgi import ASGIMiddleware

    from app_flask.engine_client import EngineClient
    from app_flask.factory import create_app
    from tests.browser_utils import flask_login

    engine = EngineClient(wsgi_app=ASGIMiddleware(engine_app))
    app = create_app(runtime, engine=engine, template_dirs=[KIT / "templates"])
    app.config["RATELIMIT_ENABLED"] = False
    query = (f"?fecha=personalizado&fecha.start={ds.D}&fecha.end={ds.D}"
             f"&horas.min={HOURS['min']}&horas.max={HOURS['max']}")
    with app.test_client() as c:
        assert flask_login(c, SLUG, "ana", "clave-de-prueba-123").status_code == 302
        html = c.get("/" + query).get_data(as_text=True)
    engine.close()
    assert '<option value="21" selected>21:00</option>' in html
    assert '<option value="1" selected>01:00</option>' in html
    assert "horas.min=21&amp;horas.max=1" in html  # the shareable URL keeps the hours
    hand = _by_hand()
    availability = 100 * (hand["planned_s"] - hand["downtime_s"]) / hand["planned_s"]
    card = re.search(r'<h2 class="card__title">Disponibilidad</h2>.*?data-role="kpi-value">([0-9.,]+)<', html,
                     re.S)
    assert card and float(card.group(1).replace(",", ".")) == pytest.approx(availability, abs=0.05)
