"""import-detections: validation with line numbers, all-or-nothing, idempotent re-import."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import schema_tenant as t
from core.errors import ImportRejected
from ingest.csv_import import import_detections

# `clock` marks only the tests whose outcome follows the date (partitions, presets, demo data).

GOOD = """ts,product_code,weight_g,status,operator
2026-10-30T23:59:59.500,PF-045,45.2,ok,ana
2026-10-31T10:00:00,PF-045,44.1,reject,ana
2026-10-31T10:00:00,PF-090,90.3,ok,ana
2026-11-01T00:00:01,PF-150,,ok,juan
2026-11-01T03:00:00-03:00,PF-150,150.9,OK,juan
"""


def count(runtime, slug, line_id):
    with runtime.db.tenant(slug) as conn:
        return conn.execute(select(func.count()).select_from(t.detections_table(line_id))).scalar()


def rows(runtime, slug, line_id):
    table = t.detections_table(line_id)
    with runtime.db.tenant(slug) as conn:
        return conn.execute(
            select(table.c.ts, table.c.seq, table.c.product_id, table.c.weight_g, table.c.status)
            .order_by(table.c.ts, table.c.seq)
        ).all()


@pytest.mark.clock
def test_good_file_imports_every_row_once(runtime, plant_tenant, tmp_path):
    path = tmp_path / "l1.csv"
    path.write_text(GOOD)
    meta = runtime.meta.get(plant_tenant)
    line = meta.line_by_code("L1")
    result = import_detections(runtime.db, meta, "L1", path, clock=runtime.clock)
    assert (result.rows_read, result.rows_inserted, result.rows_duplicate) == (5, 5, 0)
    got = rows(runtime, plant_tenant, line.id)
    products = meta.product_ids_by_code()
    # Two rows share 10:00:00: numbered 0 and 1 in file order.
    assert [(r.ts.isoformat(), r.seq) for r in got][1:3] == [
        ("2026-10-31T10:00:00", 0), ("2026-10-31T10:00:00", 1)]
    assert got[1].status == 1 and got[1].product_id == products["PF-045"]
    assert got[3].weight_g is None
    # The offset -03:00 equals the plant's timezone (Buenos Aires), so local time is unchanged.
    assert got[4].ts.isoformat() == "2026-11-01T03:00:00"
    again = import_detections(runtime.db, meta, "L1", path, clock=runtime.clock)
    assert (again.rows_inserted, again.rows_duplicate) == (0, 5)
    assert count(runtime, plant_tenant, line.id) == 5


@pytest.mark.clock
def test_bad_rows_reject_whole_file_with_line_numbers(runtime, plant_tenant, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(GOOD + "yesterday,PF-045,45,ok,x\n2026-11-02T00:00:00,NOPE,-3,maybe,x\n")
    meta = runtime.meta.get(plant_tenant)
    with pytest.raises(ImportRejected) as err:
        import_detections(runtime.db, meta, "L1", path, clock=runtime.clock)
    details = err.value.details
    assert details[0] == "line 7: ts is not an ISO 8601 date-time"
    assert details[1].startswith("line 8: unknown product_code; weight_g is negative")
    assert "status must be ok or reject" in details[1]
    assert count(runtime, plant_tenant, meta.line_by_code("L1").id) == 0


@pytest.mark.clock
def test_skip_bad_imports_the_good_rows(runtime, plant_tenant, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(GOOD + "not-a-date,PF-045,45,ok,x\n")
    meta = runtime.meta.get(plant_tenant)
    result = import_detections(runtime.db, meta, "L1", path, clock=runtime.clock, skip_bad=True)
    assert result.rows_inserted == 5 and result.bad_rows == ["line 7: ts is not an ISO 8601 date-time"]


@pytest.mark.clock
def test_semicolon_and_decimal_comma(runtime, plant_tenant, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text("ts;product_code;weight_g;status\n2026-11-05 08:00:00;GD-150;150,5;ok\n",
                    encoding="utf-8-sig")
    meta = runtime.meta.get(plant_tenant)
    import_detections(runtime.db, meta, "L3", path, clock=runtime.clock)
    assert rows(runtime, plant_tenant, meta.line_by_code("L3").id)[0].weight_g == pytest.approx(150.5)


@pytest.mark.parametrize("content, message", [
    ("", "the file is empty"),
    ("ts,product_code\n2026-11-01,PF-045\n", "missing column(s) weight_g, status"),
    ('ts,product_code,weight_g,status\n"2026-11-01,PF-045,1,ok\n', "malformed CSV"),
    ("ts,product_code,weight_g,status\n2026-11-01,PF-045,1,ok,extra,more\n", "1 bad row(s)"),
])
def test_malformed_files_have_one_clear_message(runtime, plant_tenant, tmp_path, content, message):
    path = tmp_path / "m.csv"
    path.write_text(content)
    with pytest.raises(ImportRejected) as err:
        import_detections(runtime.db, runtime.meta.get(plant_tenant), "L1", path, clock=runtime.clock)
    assert message in err.value.message


def test_not_utf8(runtime, plant_tenant, tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"ts,product_code,weight_g,status\n\xff\xfe\x00garbage\n")
    with pytest.raises(ImportRejected, match="not UTF-8"):
        import_detections(runtime.db, runtime.meta.get(plant_tenant), "L1", path, clock=runtime.clock)
