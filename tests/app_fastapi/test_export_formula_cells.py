"""CSV/Excel exports never hand a spreadsheet a formula: a text cell that starts with = + - @,
tab or CR (names an admin can edit: lines, products, stop reasons) is written with a leading
single quote, while real numbers, negative ones included, stay numbers."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from cli.defaults import install_tenant_defaults
from core import schema_tenant as t
from engine.csv_export import csv_chunks
from ingest.plant_metadata import load_plant_text
from jobs.runs import run_by_hand
from tests import stops_dataset as ds
from tests.stops_support import SLUG, build_stops_tenant, token

LINE_NAME = "=1+2+cmd|' /C calc'!A0"
PRODUCT_NAME = "-2+3"
REASONS = {"limpieza": "@SUM(1)", "formato": "\t=x"}
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
FILTERS = {"fecha": {"preset": "personalizado", "start": "2026-11-17", "end": "2026-11-18"}}
BASE = "/api/v1/admin/plant"


def _is_number(cell: str) -> bool:
    try:
        float(cell.replace(",", "."))
    except ValueError:
        return False
    return True


def _cells(res, excel: bool) -> list[str]:
    assert res.status_code == 200, res.text
    text = res.content.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline=""), delimiter=";" if excel else ",")
            for cell in row]


@pytest.fixture
def api(runtime, clock, engine_app):
    build_stops_tenant(runtime, clock)
    install_tenant_defaults(runtime, SLUG, replace=True)
    reasons = "".join(f"  - {{code: {code}, name: {json.dumps(name)}}}\n" for code, name in REASONS.items())
    load_plant_text(runtime.db, SLUG, "stop_reasons:\n" + reasons, today=ds.NOW.date())
    # The loader and the admin API strip surrounding whitespace, so a tab-led name only comes
    # from a hand edit of the database: written here the same way.
    with runtime.db.tenant(SLUG) as conn:
        conn.execute(update(t.stop_reasons).where(t.stop_reasons.c.code == "formato").values(name="\t=x"))
    runtime.meta.invalidate(SLUG)
    client = TestClient(engine_app)
    client.headers.update(token(runtime))
    line = next(r for r in client.get(f"{BASE}/lines").json() if r["code"] == "T1")
    body = {k: v for k, v in line.items() if k != "id"}
    assert client.put(f"{BASE}/lines/{line['id']}", json={**body, "name": LINE_NAME}).status_code == 200
    product = next(r for r in client.get(f"{BASE}/products").json() if r["code"] == "P1")
    body = {k: v for k, v in product.items() if k != "id"}
    renamed = client.put(f"{BASE}/products/{product['id']}", json={**body, "name": PRODUCT_NAME})
    assert renamed.status_code == 200
    assert run_by_hand(runtime, "gap-analysis", SLUG)[0].status == "ok"
    stops = client.post("/api/v1/stops/search", json={"filters": FILTERS}).json()["stops"]
    for stop, code in zip([s for s in stops if s["kind"] == "stop"], REASONS, strict=False):
        res = client.patch(f"/api/v1/stops/{stop['id']}", json={"reason": code})
        assert res.status_code == 200, res.text
    return client


def test_names_starting_like_a_formula_are_quoted_in_every_export(api):
    client = api
    exports: dict[str, list[str]] = {}
    widgets = client.post("/api/v1/dashboard/run", json={"filters": FILTERS}).json()["widgets"]
    for w in widgets:
        if w.get("error"):
            continue
        for fmt in ("csv", "excel"):
            res = client.post(f"/api/v1/exports/widgets/{w['id']}?format={fmt}", json={"filters": FILTERS})
            exports[f"{w['class']} {fmt}"] = _cells(res, fmt == "excel")
    for fmt in ("csv", "excel"):
        res = client.post(f"/api/v1/exports/shifts?format={fmt}", json={"filters": FILTERS})
        exports[f"shifts {fmt}"] = _cells(res, fmt == "excel")
    res = client.post("/api/v1/reports/shifts", json={"filters": FILTERS}, headers={"Accept": "text/csv"})
    exports["report csv"] = _cells(res, excel=False)

    for name, cells in exports.items():
        formulas = [c for c in cells if c.startswith(DANGEROUS) and not _is_number(c)]
        assert formulas == [], name
    every_cell = {c for cells in exports.values() for c in cells}
    for dangerous in (LINE_NAME, PRODUCT_NAME, *REASONS.values()):
        assert "'" + dangerous in every_cell, dangerous


@pytest.mark.parametrize("fmt", ["csv", "excel"])
def test_numbers_stay_numbers_and_only_text_is_quoted(fmt):
    sep = ";" if fmt == "excel" else ","
    text = "".join(csv_chunks(["-Etiqueta", "n"], [[-2.5, -3], ["-2+3", "@SUM(1)"], ["\r=x", "+1"]], fmt))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=sep))
    negative = "-2,5" if fmt == "excel" else "-2.5"
    assert rows == [["'-Etiqueta", "n"], [negative, "-3"], ["'-2+3", "'@SUM(1)"], ["'\r=x", "'+1"]]
