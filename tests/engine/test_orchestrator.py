"""POST /api/v1/dashboard/run on the seeded demo tenant, checked against plain SQL (both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, update

from app_fastapi.main import create_app
from core import schema_tenant as t
from tests.dashboard_support import (
    ERP_WIDGETS,
    bearer,
    data_days,
    demo_principal,
    line_ids,
    truth,
    write_manifest,
)
from tests.provider_server import ProviderServer, closed_port_url

# `clock` marks only the tests whose outcome follows the date (partitions, presets, demo data).

RUN = "/api/v1/dashboard/run"


@pytest.fixture
def provider():
    with ProviderServer(slow_s=1.0) as server:
        yield server


@pytest.fixture
def engine(runtime, demo_tenant, provider, tmp_path):
    runtime.settings.external_apis_file = write_manifest(tmp_path / "apis.yml", provider.url("/fx"))
    with TestClient(create_app(runtime)) as client:
        client.headers.update(bearer(runtime, demo_principal(runtime)))
        yield client


def by_class(body: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for w in body["widgets"]:
        out.setdefault(w["class"], []).append(w)
    return out


def custom(start, end) -> dict:
    return {"preset": "personalizado", "start": start.isoformat(), "end": end.isoformat()}


@pytest.mark.clock
def test_widget_numbers_equal_plain_sql(runtime, demo_tenant, engine, provider):
    first, last = data_days(runtime, demo_tenant)
    chosen = line_ids(runtime, demo_tenant)[:2]
    response = engine.post(RUN, json={"filters": {"fecha": custom(first, last), "lineas": chosen}})
    assert response.status_code == 200, response.text
    body = response.json()
    sql = truth(runtime, demo_tenant, first, last, chosen)
    units = sum(v["units"] for v in sql.values())
    kg = sum(v["kg"] for v in sql.values())
    rejects = sum(v["rejects"] for v in sql.values())
    assert units > 1000

    widgets = by_class(body)
    kpis = {w["data"]["metric"]: w["data"]["value"] for w in widgets["KpiWidget"]}
    assert kpis["units"] == units
    assert kpis["kg"] == pytest.approx(kg, rel=1e-6)
    assert kpis["reject_rate"] == pytest.approx(100 * rejects / units, rel=1e-9)

    bars = widgets["ProductionByLineWidget"][0]["data"]["data"]
    assert dict(zip(bars["labels"], bars["datasets"][0]["data"], strict=True)) == {
        v["name"]: v["units"] for v in sql.values()}

    series = widgets["ProductionOverTimeWidget"][0]["data"]
    assert {d["label"]: sum(d["data"]) for d in series["data"]["datasets"]} == {
        v["name"]: v["units"] for v in sql.values()}
    assert len(series["data"]["labels"]) == len(series["data"]["datasets"][0]["data"])

    mix = widgets["ProductMixWidget"][0]["data"]["data"]["datasets"][0]["data"]
    assert sum(mix) == units

    table = widgets["LineSummaryWidget"][0]["data"]["rows"]
    for (name, n, kilos, rate), v in zip(table, sql.values(), strict=True):
        assert (name, n) == (v["name"], v["units"])
        assert kilos == pytest.approx(v["kg"], rel=1e-6)
        assert rate == pytest.approx(100 * v["rejects"] / v["units"])

    fx = widgets["ExchangeRateWidget"][0]
    assert fx["data"]["data"]["labels"] == [first.isoformat()]
    assert provider.calls == [("/fx", {"base": "USD", "quote": "ARS", "start": first.isoformat(),
                                       "end": last.isoformat()})]

    meta = body["meta"]
    assert meta["rows"] == units
    assert meta["filters"]["lineas"] == sorted(chosen)
    assert meta["filters"]["fecha"]["preset"] == "personalizado"
    # shift_date: the plan-vs-actual widget reads the frame besides its ERP payload.
    # The master columns the widgets' grains are computed from: time comes as buckets, weights
    # only for the weight measures; nominal_weight_g for the weight control table.
    assert set(meta["columns"]) == {"is_reject", "weight_g", "hour_start", "production_day", "line_code",
                                    "line_name", "product_name", "shift_date", "nominal_weight_g"}
    assert set(meta["timings"]) == {"filters", "query", "fetch", "joins", "grain", "broker", "widgets",
                                    "total"}
    timing = response.headers["Server-Timing"]
    for stage in meta["timings"]:
        assert f"{stage};dur=" in timing


@pytest.mark.clock
def test_rejects_toggle_off_keeps_only_good_units(runtime, demo_tenant, engine):
    first, last = data_days(runtime, demo_tenant)
    lines = line_ids(runtime, demo_tenant)
    body = engine.post(RUN, json={"filters": {"fecha": custom(first, last),
                                              "incluir_rechazos": False}}).json()
    sql = truth(runtime, demo_tenant, first, last, lines)
    kpis = {w["data"]["metric"]: w["data"]["value"] for w in by_class(body)["KpiWidget"]}
    assert kpis["units"] == sum(v["units"] - v["rejects"] for v in sql.values())
    assert kpis["reject_rate"] == 0


def test_invalid_filters_are_422_per_field_and_nothing_runs(runtime, demo_tenant, engine, provider):
    first, _last = data_days(runtime, demo_tenant)
    backwards = custom(first, first - timedelta(days=2))
    response = engine.post(RUN, json={"filters": {"fecha": backwards, "lineas": [1, 999]}})
    assert response.status_code == 422
    details = {d["field"]: d["message"] for d in response.json()["details"]}
    assert set(details) == {"fecha", "lineas"}
    assert "anterior" in details["fecha"]
    assert "999" in details["lineas"]
    assert provider.calls == []


def test_tenant_cannot_come_from_the_body(engine):
    response = engine.post(RUN, json={"filters": {}, "tenant": "other"})
    assert response.status_code == 422


def test_missing_token_is_401(runtime, demo_tenant):
    with TestClient(create_app(runtime)) as client:
        assert client.post(RUN, json={}).status_code == 401


@pytest.mark.clock
def test_external_down_is_an_error_on_that_widget_only(runtime, demo_tenant, engine, tmp_path):
    write_manifest(tmp_path / "apis.yml", closed_port_url())
    body = engine.post(RUN, json={"filters": {}}).json()
    for w in body["widgets"]:
        if w["class"] == "ExchangeRateWidget":
            assert "Fuente externa no disponible" in w["error"] and w["data"] is None
        else:
            assert w["error"] is None and w["data"]


@pytest.mark.parametrize("path", ["/fail", "/malformed", "/wrong-shape", "/slow"])
def test_misbehaving_provider_costs_one_widget(runtime, demo_tenant, engine, provider, tmp_path, path):
    write_manifest(tmp_path / "apis.yml", provider.url(path), timeout_s=0.3)
    body = engine.post(RUN, json={"filters": {}}).json()
    errors = {w["class"]: w.get("error") for w in body["widgets"]}
    assert errors.pop("ExchangeRateWidget")
    assert set(errors.values()) == {None}


def test_range_without_data_is_empty_everywhere(runtime, demo_tenant, engine, provider, tmp_path):
    write_manifest(tmp_path / "apis.yml", provider.url("/empty"))
    body = engine.post(RUN, json={"filters": {"fecha": {"preset": "personalizado", "start": "2001-01-01",
                                                        "end": "2001-01-07"}}}).json()
    assert body["meta"]["rows"] == 0
    own = [w for w in body["widgets"] if w["class"] not in ERP_WIDGETS]  # the ERP plans regardless
    assert [w.get("data") for w in own] == [{"empty": True}] * len(own)


def test_bad_catalog_rows_fail_alone_and_admins_see_why(runtime, demo_tenant, engine):
    with runtime.db.tenant(demo_tenant) as conn:
        bad = conn.execute(insert(t.widget_catalog).values(
            class_name="os.system", title="Malo", config={}, sort_order=90,
            active=True)).inserted_primary_key[0]
        mal = conn.execute(insert(t.widget_catalog).values(
            class_name="KpiWidget", title="Mal config", config={"metric": "x"}, sort_order=91,
            active=True)).inserted_primary_key[0]
        layout = conn.execute(t.dashboard_layouts.select()).first()
        items = list(layout.items) + [{"widget_id": bad}, {"widget_id": mal}, {"widget_id": 404}]
        conn.execute(update(t.dashboard_layouts).where(t.dashboard_layouts.c.id == layout.id)
                     .values(items=items))
    body = engine.post(RUN, json={}).json()
    bad = {w["title"]: w["error"] for w in body["widgets"] if w["error"]}
    assert set(bad) == {"Malo", "Mal config"}
    assert "«os.system» no está registrada" in bad["Malo"]
    assert "metric" in bad["Mal config"]
    assert any("no widget with id 404" in e for e in body["meta"]["errors"])


def test_unknown_layout_is_404(engine):
    assert engine.post(RUN, json={"layout_id": 12345}).status_code == 404


def test_openapi_documents_the_run_response(engine):
    schema = engine.get("/api/openapi.json").json()
    op = schema["paths"]["/api/v1/dashboard/run"]["post"]
    assert {"200", "401", "413", "422"} <= set(op["responses"])
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    comps = schema["components"]["schemas"]
    assert set(comps[ref]["properties"]) == {"widgets", "meta"}
    documented = set(comps["WidgetResult"]["properties"])
    assert {"id", "class", "title", "shape", "data", "error", "time_ms"} <= documented
    stages = {"filters", "query", "fetch", "joins", "grain", "broker", "widgets", "total"}
    assert set(comps["Timings"]["properties"]) == stages
    assert engine.get("/api/docs").status_code == 200
