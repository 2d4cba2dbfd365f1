"""Monthly RANGE partitions on MariaDB: created with the data, split when months are added."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import func, select, text

from core import partitions
from core import schema_tenant as t
from core.detection_tables import ensure_line_table, wanted_months
from ingest.bulk_load import insert_detections

pytestmark = pytest.mark.clock  # partitions, presets and demo data follow the clock


def test_partition_names_and_month_math():
    assert partitions.partition_name(date(2026, 1, 31)) == "p202601"
    assert partitions.add_months(date(2026, 11, 15), 2) == date(2027, 1, 1)
    assert partitions.months_between(date(2026, 11, 20), date(2027, 2, 1)) == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    today = date(2026, 11, 28)
    assert wanted_months([date(2026, 9, 3)], today) == [
        date(2026, 9, 1), date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]


def partition_rows(conn, table_name):
    return conn.execute(text(
        "SELECT PARTITION_NAME, TABLE_ROWS FROM information_schema.PARTITIONS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t ORDER BY PARTITION_ORDINAL_POSITION"
    ), {"t": table_name}).all()


@pytest.mark.mysql
@pytest.mark.parametrize("backend", ["mysql"])
def test_seed_demo_creates_monthly_partitions(runtime, demo_tenant):
    meta = runtime.meta.get(demo_tenant)
    with runtime.db.tenant(demo_tenant) as conn:
        for line in meta.lines.values():
            name = t.detections_table_name(line.id)
            names = partitions.existing_partitions(conn, name)
            assert names[0] == "p0" and names[-1] == "pmax"
            months = [n for n in names if n not in ("p0", "pmax")]
            assert months == sorted(months)
            today = runtime.clock.now_utc().date()
            for n in range(3):
                assert partitions.partition_name(partitions.add_months(today, n)) in months
            first_ts = conn.execute(select(func.min(t.detections_table(line.id).c.ts))).scalar()
            assert partitions.partition_name(first_ts.date()) in months


@pytest.mark.mysql
@pytest.mark.parametrize("backend", ["mysql"])
def test_adding_older_and_newer_months_keeps_rows(runtime, plant_tenant):
    line_id = runtime.meta.get(plant_tenant).line_by_code("L1").id
    name = t.detections_table_name(line_id)
    frame = pd.DataFrame({
        "ts": pd.to_datetime(["2025-03-10 10:00", "2025-05-10 10:00", "2030-01-05 00:00"]),
        "seq": [0, 0, 0], "product_id": [1, 1, 1], "weight_g": [45.0, 46.0, 47.0], "status": [0, 0, 1],
    })
    with runtime.db.tenant(plant_tenant) as conn:
        insert_detections(conn, line_id, frame)
    with runtime.db.tenant(plant_tenant) as conn:
        today = runtime.clock.now_utc().date()
        created = ensure_line_table(conn, line_id, [date(2025, 3, 1), date(2025, 5, 1), date(2030, 1, 1)],
                                    today=today)
        assert set(created) >= {"p202503", "p202505", "p203001"}
        names = partitions.existing_partitions(conn, name)
        assert names.index("p202503") < names.index("p202505") < names.index("p203001") < names.index("pmax")
        # Each row now sits in its own month's partition.
        for month, ts in (("p202503", "2025-03-10 10:00:00"), ("p202505", "2025-05-10 10:00:00"),
                          ("p203001", "2030-01-05 00:00:00")):
            got = conn.execute(text(f"SELECT ts FROM `{name}` PARTITION ({month})")).scalars().all()
            assert got == [datetime.fromisoformat(ts)]
        assert conn.execute(text(f"SELECT COUNT(*) FROM `{name}`")).scalar() == 3
        assert ensure_line_table(conn, line_id, [date(2025, 3, 1)], today=today) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_tables_have_a_timestamp_index(runtime, plant_tenant):
    line_id = runtime.meta.get(plant_tenant).line_by_code("L1").id
    with runtime.db.tenant(plant_tenant) as conn:
        plan = conn.execute(text(
            f"EXPLAIN QUERY PLAN SELECT count(*) FROM detections_{line_id} "
            "WHERE ts >= '2026-01-01' AND ts < '2026-02-01'")).all()
    assert "USING" in " ".join(str(r) for r in plan) and "INDEX" in " ".join(str(r) for r in plan)
