"""The partition-maintenance job: months ahead on every detection table and rollups, rows out of pmax."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from core import partitions
from core import schema_tenant as t
from core.clock import plant_today
from core.partition_upkeep import maintain_tenant
from ingest.bulk_load import insert_detections
from jobs.runs import run_by_hand

pytestmark = pytest.mark.clock  # "the current month" follows the clock


def _partitions(conn, name: str) -> dict[str, int]:
    rows = conn.execute(text(
        "SELECT PARTITION_NAME, TABLE_ROWS FROM information_schema.PARTITIONS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t ORDER BY PARTITION_ORDINAL_POSITION"
    ), {"t": name}).all()
    return {r[0]: r[1] for r in rows}


@pytest.mark.mysql
@pytest.mark.parametrize("backend", ["mysql"])
def test_maintenance_creates_next_months_moves_pmax_rows_and_is_idempotent(runtime, plant_tenant):
    meta = runtime.meta.get(plant_tenant)
    line_id = meta.line_by_code("L1").id
    name = t.detections_table_name(line_id)
    far = pd.Timestamp("2031-06-15 10:00")  # beyond every partition: lands in pmax
    frame = pd.DataFrame({"ts": [far, far + pd.Timedelta(days=40)], "seq": 0, "product_id": 1,
                          "weight_g": 45.0, "status": 0})
    with runtime.db.tenant(plant_tenant) as conn:
        insert_detections(conn, line_id, frame)
        conn.execute(text(f"ANALYZE TABLE `{name}`"))
        assert _partitions(conn, name)["pmax"] == 2
    result = run_by_hand(runtime, "partitions", plant_tenant)
    assert result[0].status == "ok" and result[0].rows > 0
    today = plant_today(runtime.clock, meta.timezone)
    ahead = [partitions.partition_name(partitions.add_months(today, n))
             for n in range(runtime.settings.partition_months_ahead + 1)]
    with runtime.db.tenant(plant_tenant) as conn:
        for line in meta.lines.values():
            names = partitions.existing_partitions(conn, t.detections_table_name(line.id))
            assert set(ahead) <= set(names) and names[-1] == "pmax"
        conn.execute(text(f"ANALYZE TABLE `{name}`"))
        parts = _partitions(conn, name)
        counts = conn.execute(text(
            f"SELECT (SELECT COUNT(*) FROM `{name}` PARTITION (pmax)), "
            f"(SELECT COUNT(*) FROM `{name}` PARTITION (p203106)), "
            f"(SELECT COUNT(*) FROM `{name}` PARTITION (p203107))")).one()
    assert tuple(counts) == (0, 1, 1) and "p203106" in parts
    assert maintain_tenant(runtime, plant_tenant) == {
        **{t.detections_table_name(i): [] for i in sorted(meta.lines)}, t.rollups.name: []}  # nothing left


@pytest.mark.mysql
@pytest.mark.parametrize("backend", ["mysql"])
def test_retention_drops_old_months_when_enabled(runtime, plant_tenant):
    runtime.settings.partition_retention_months = 1
    meta = runtime.meta.get(plant_tenant)
    name = t.detections_table_name(meta.line_by_code("L1").id)
    with runtime.db.tenant(plant_tenant) as conn:
        partitions.ensure_months(conn, name, [pd.Timestamp("2020-01-01").date()])
    changes = maintain_tenant(runtime, plant_tenant)
    assert "-p202001" in changes[name]
    with runtime.db.tenant(plant_tenant) as conn:
        assert "p202001" not in partitions.existing_partitions(conn, name)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_on_sqlite_there_is_nothing_to_do(runtime, plant_tenant):
    assert maintain_tenant(runtime, plant_tenant) == {}
    assert run_by_hand(runtime, "partitions", plant_tenant)[0].rows == 0
