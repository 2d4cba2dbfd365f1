"""CSV exports: every widget of the demo dashboard downloads as CSV equal to its card's data
(plain and Spanish-Excel), the shift report downloads equal to the JSON report, bad input is 4xx."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from core import schema_tenant as t
from engine.csv_export import CHUNK_ROWS, csv_chunks
from tests.dashboard_support import bearer, data_days, demo_principal
from widgets import widget_registry
from widgets.shapes import table_of


def _number(cell: str, excel: bool) -> float:
    """A numeric cell read the way a spreadsheet in that format would: Spanish Excel writes a
    decimal comma (never a point), plain CSV a decimal point (never a comma)."""
    if excel:
        assert "." not in cell, cell
        return float(cell.replace(",", "."))
    assert "," not in cell, cell
    return float(cell)


def _read(cell: str, like: object, excel: bool) -> object:
    """The cell parsed back into the type of the JSON value it was exported from."""
    if like is None:
        assert cell == "", cell
        return None
    if isinstance(like, bool):
        assert cell in ("true", "false"), cell
        return cell == "true"
    if isinstance(like, int | float):
        return _number(cell, excel)
    return cell


def _parse(res, excel: bool) -> list[list[str]]:  # noqa: ANN001
    """The rows of an export: Spanish Excel starts with a UTF-8 BOM and separates with ';'."""
    raw = res.content
    assert raw.startswith(b"\xef\xbb\xbf") is excel
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";" if excel else ","))


def _values(cells: list[str], like: list[object], excel: bool) -> list[object]:
    assert len(cells) == len(like), (cells, like)
    return [_read(cell, value, excel) for cell, value in zip(cells, like, strict=True)]


def _table(parsed: list[list[str]], like: list[list[object]], excel: bool) -> list[list[object]]:
    """Parsed data rows (no header) in the types of the JSON rows they must equal."""
    assert len(parsed) == len(like), (len(parsed), len(like))
    return [_values(cells, row, excel) for cells, row in zip(parsed, like, strict=True)]


EXTERNAL = tuple(cls.__name__ for cls in widget_registry if cls.source_type == "external")


def _set_active(rt, class_names: tuple[str, ...], active: bool) -> None:  # noqa: ANN001
    c = t.widget_catalog.c
    with rt.db.tenant("demo") as conn:
        conn.execute(update(t.widget_catalog).where(c.class_name.in_(class_names)).values(active=active))


@pytest.fixture
def api(runtime, demo_tenant, engine_app, tmp_path):
    # No external providers and their widgets off: a run without a failed card is result-cached,
    # so each export of it is the very answer the card showed (no provider timing in the way).
    (tmp_path / "apis.yml").write_text("apis: {}\n")
    runtime.settings.external_apis_file = tmp_path / "apis.yml"
    _set_active(runtime, EXTERNAL, False)
    client = TestClient(engine_app)
    client.headers.update(bearer(runtime, demo_principal(runtime)))
    first, last = data_days(runtime, demo_tenant)
    filters = {"fecha": {"preset": "personalizado", "start": first.isoformat(), "end": last.isoformat()}}
    return client, filters


def test_every_widget_exports_its_card_data_and_an_error_card_does_not(api, runtime):
    client, filters = api
    run = client.post("/api/v1/dashboard/run", json={"filters": filters})
    assert run.status_code == 200, run.text
    widgets = run.json()["widgets"]
    exported = 0
    for w in widgets:
        for fmt, excel in (("csv", False), ("excel", True)):
            res = client.post(f"/api/v1/exports/widgets/{w['id']}?format={fmt}", json={"filters": filters})
            assert res.status_code == 200, (w["class"], res.text)
            assert res.headers["content-type"].startswith("text/csv")
            assert "attachment" in res.headers["content-disposition"]
            header, rows = table_of(w["shape"], w["data"])
            parsed = _parse(res, excel)
            assert parsed[0] == header, w["class"]
            assert _table(parsed[1:], rows, excel) == rows, w["class"]
            exported += 1
    assert exported >= 2 * 10  # the default layout's widgets, in both formats

    _set_active(runtime, ("ExchangeRateWidget",), True)
    run = client.post("/api/v1/dashboard/run", json={"filters": filters}).json()
    card = next(w for w in run["widgets"] if w["class"] == "ExchangeRateWidget")
    assert card["error"]
    res = client.post(f"/api/v1/exports/widgets/{card['id']}", json={"filters": filters})
    assert res.status_code == 409 and card["error"] in res.json()["message"]


def test_shift_report_export_equals_the_json_report_and_bad_requests_are_4xx(api):
    client, filters = api
    report = client.post("/api/v1/reports/shifts", json={"filters": filters}).json()["rows"]
    assert report
    for fmt, excel in (("csv", False), ("excel", True)):
        res = client.post(f"/api/v1/exports/shifts?format={fmt}", json={"filters": filters})
        assert res.status_code == 200
        parsed = _parse(res, excel)
        columns = parsed[0]
        assert columns[:3] == ["production_date", "shift", "shift_name"]
        expected = [[r[c] for c in columns] for r in report]
        assert _table(parsed[1:], expected, excel) == expected

    assert client.post("/api/v1/exports/widgets/999999", json={"filters": filters}).status_code == 404
    assert client.post("/api/v1/exports/widgets/1?format=xls", json={"filters": filters}).status_code == 422
    assert client.post(f"/api/v1/exports/widgets/{2**63}", json={"filters": filters}).status_code == 422
    bad = client.post("/api/v1/exports/widgets/1", json={"filters": {"fecha": "nunca"}})
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "fecha"
    assert client.post("/api/v1/exports/shifts?format=pdf", json={"filters": filters}).status_code == 422
    assert TestClient(client.app).post("/api/v1/exports/shifts", json={}).status_code == 401


def test_large_exports_come_in_chunks():
    rows = ([i, i / 3, None, "año"] for i in range(3 * CHUNK_ROWS + 1))
    chunks = list(csv_chunks(["n", "tercio", "nada", "texto"], rows, "excel"))
    assert len(chunks) == 4 and chunks[0].startswith("\ufeffn;tercio;nada;texto\r\n")
    parsed = list(csv.reader(io.StringIO("".join(chunks).lstrip("\ufeff"), newline=""), delimiter=";"))
    assert len(parsed) == 3 * CHUNK_ROWS + 2
    assert _values(parsed[2], [1, 1 / 3, None, "año"], excel=True) == [1, 1 / 3, None, "año"]
