"""The rollup job: watermark, dirty ranges from late data/imports/nominal changes, CLI, leader."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select, update

from core import partitions
from core import schema_central as c
from core import schema_tenant as t
from core.clock import parse_instant
from core.rollup_grain import floor_to_grain
from core.runtime import build_runtime
from ingest.batch import parse_batch, write_batch
from ingest.csv_import import import_detections
from ingest.plant_metadata import load_plant_text
from manage import main
from rollups import job as rollup_job
from rollups.job import roll_tenant
from rollups.rebuild import rebuild_rollups
from tests.helpers import DEMO_PLANT, TEST_TZ
from tests.rollup_support import (
    assert_hourly_sums_the_five_minute_rows,
    assert_same_rollups,
    expected_rollups,
    insert_rows,
    random_rows,
    stored_rollups,
)

DAY = datetime(2026, 11, 18)
FIRST, LAST = DAY.replace(hour=8), DAY.replace(hour=12)


def _at(clock, local: datetime) -> None:
    clock.set(parse_instant(local.isoformat(), TEST_TZ))


def _state(runtime, slug: str, line: int) -> tuple:
    s = t.rollups_state.c
    with runtime.db.tenant(slug) as conn:
        return tuple(conn.execute(select(s.rolled_until, s.dirty_from, s.dirty_until)
                                  .where(s.line_id == line)).one())


def _line_products(runtime, slug: str, code: str) -> tuple[int, dict[int, float]]:
    meta = runtime.meta.get(slug)
    line = meta.lines_by_code[code].id
    return line, {p.id: p.nominal_weight_g for p in meta.products.values() if line in p.line_ids}


def _send_batch(runtime, slug: str, rows: list[tuple], product_codes: dict[int, str]) -> None:
    """Detections through the ingestion API's parse + write path."""
    body = {"line": "L1", "detections": [
        {"ts": ts.isoformat(), "product_code": product_codes[pid], "weight_g": w,
         "status": "reject" if s else "ok"} for ts, pid, w, s in rows]}
    frame, _, _ = parse_batch(json.dumps(body).encode(), "application/json")
    write_batch(runtime.db, runtime.meta.get(slug), frame, allowed={"L1"}, window=None)


@pytest.fixture
def rolled(runtime, clock, plant_tenant):
    """L1 with 4 h of detections (08:00–12:00), rolled up at 15:30 by one job run."""
    line, products = _line_products(runtime, plant_tenant, "L1")
    insert_rows(runtime, plant_tenant, line, random_rows(np.random.default_rng(7), FIRST, 4, 2500, products))
    _at(clock, DAY.replace(hour=15, minute=30))
    roll_tenant(runtime, plant_tenant)
    return line


def test_incremental_runs_with_late_batches_equal_one_full_rebuild(runtime, clock, plant_tenant, backend):
    line, products = _line_products(runtime, plant_tenant, "L1")
    codes = {p.id: p.code for p in runtime.meta.get(plant_tenant).products.values()}
    rows = random_rows(np.random.default_rng(1), FIRST, 2, 1500, products)
    rng = np.random.default_rng(2)
    now, step = FIRST, timedelta(minutes=11)
    while now < FIRST + timedelta(hours=2):
        now += step
        _at(clock, now)
        arrived = [r for r in rows if now - step <= r[0] < now]
        late = [r for r in arrived if r[1] in codes and rng.random() < 0.1]  # arrive after the run
        insert_rows(runtime, plant_tenant, line, [r for r in arrived if r not in late])
        roll_tenant(runtime, plant_tenant)
        if late:
            _send_batch(runtime, plant_tenant, late, codes)
        assert _state(runtime, plant_tenant, line)[0] == floor_to_grain(now)
    roll_tenant(runtime, plant_tenant)
    rolled_until, dirty_from, dirty_until = _state(runtime, plant_tenant, line)
    assert (rolled_until, dirty_from, dirty_until) == (floor_to_grain(now), None, None)
    incremental = stored_rollups(runtime, plant_tenant, line)
    assert_same_rollups(incremental, expected_rollups(runtime, plant_tenant, line, FIRST, rolled_until))
    assert assert_hourly_sums_the_five_minute_rows(runtime, plant_tenant, line) > 0
    meta = runtime.meta.get(plant_tenant)
    with runtime.db.tenant(plant_tenant) as conn:
        conn.execute(t.rollups.delete())
        rebuild_rollups(conn, meta, line, FIRST, rolled_until)
    assert_same_rollups(stored_rollups(runtime, plant_tenant, line), incremental)
    if backend == "mysql":
        with runtime.db.tenant(plant_tenant) as conn:
            assert "p202611" in partitions.existing_partitions(conn, t.rollups.name)
            in_pmax = conn.exec_driver_sql("SELECT COUNT(*) FROM rollups PARTITION (pmax)").scalar()
        assert in_pmax == 0


def test_a_late_import_reaggregates_only_the_buckets_it_touches(runtime, rolled, plant_tenant, tmp_path):
    line = rolled
    with runtime.db.tenant(plant_tenant) as conn:
        conn.execute(update(t.rollups).values(units=-1))  # anything rewritten loses this mark
    history = tmp_path / "late.csv"
    history.write_text("ts,product_code,weight_g,status\n"
                       "2026-11-18T09:02:00,PF-090,91.5,ok\n2026-11-18T09:13:30,PF-045,44.25,reject\n")
    import_detections(runtime.db, runtime.meta.get(plant_tenant), "L1", history, clock=runtime.clock)
    assert _state(runtime, plant_tenant, line)[1:] == (DAY.replace(hour=9), DAY.replace(hour=9, minute=15))
    result = roll_tenant(runtime, plant_tenant)
    assert sum(r.chunks for r in result) == 1
    want = expected_rollups(runtime, plant_tenant, line, FIRST, LAST)
    got = stored_rollups(runtime, plant_tenant, line)
    touched = {k for k in got if DAY.replace(hour=9) <= k[0] < DAY.replace(hour=9, minute=15)}
    assert len(touched) >= 6
    assert_same_rollups({k: got[k] for k in touched}, {k: want[k] for k in touched})
    assert all(v["units"] == -1 for k, v in got.items() if k not in touched)
    assert _state(runtime, plant_tenant, line)[1:] == (None, None)


def test_a_nominal_weight_change_redoes_the_product_buckets(runtime, rolled, plant_tenant):
    line = rolled
    text = DEMO_PLANT.read_text(encoding="utf-8").replace("nominal_weight_g: 90, lines: [L1]",
                                                          "nominal_weight_g: 92, lines: [L1]", 1)
    load_plant_text(runtime.db, plant_tenant, text, today=DAY.date())
    runtime.meta.invalidate(plant_tenant)
    rolled_until, dirty_from, dirty_until = _state(runtime, plant_tenant, line)
    assert dirty_from is not None and dirty_from <= FIRST.replace(minute=5)
    assert dirty_until >= LAST - timedelta(minutes=5)
    roll_tenant(runtime, plant_tenant)
    assert_same_rollups(stored_rollups(runtime, plant_tenant, line),
                        expected_rollups(runtime, plant_tenant, line, FIRST, rolled_until))
    assert _state(runtime, plant_tenant, line)[1:] == (None, None)


def test_a_run_killed_between_chunks_then_rerun_equals_a_clean_run(runtime, clock, plant_tenant, monkeypatch):
    line, products = _line_products(runtime, plant_tenant, "L2")
    insert_rows(runtime, plant_tenant, line, random_rows(np.random.default_rng(4), FIRST, 4, 1500, products))
    _at(clock, DAY.replace(hour=15, minute=30))
    monkeypatch.setattr(rollup_job, "CHUNK", timedelta(minutes=45))
    roll_tenant(runtime, plant_tenant, max_chunks=2)  # "killed" after two committed chunks
    assert _state(runtime, plant_tenant, line)[0] == FIRST + timedelta(minutes=90)
    roll_tenant(runtime, plant_tenant)
    roll_tenant(runtime, plant_tenant)
    assert_same_rollups(stored_rollups(runtime, plant_tenant, line),
                        expected_rollups(runtime, plant_tenant, line, FIRST, DAY.replace(hour=15, minute=30)))


def test_cli_rebuilds_one_line_and_rejects_bad_input(runtime, rolled, plant_tenant, capsys):
    line = rolled
    with runtime.db.tenant(plant_tenant) as conn:
        conn.execute(t.rollups.delete())
    argv = ["rollups", "rebuild", "--tenant", plant_tenant, "--line", "L1", "--from", "2026-11-18", "--to",
            "2026-11-18"]
    assert main(argv, runtime=runtime) == 0
    assert "rollups of L1 from 2026-11-18 to 2026-11-18:" in capsys.readouterr().out
    assert_same_rollups(stored_rollups(runtime, plant_tenant, line),
                        expected_rollups(runtime, plant_tenant, line, FIRST, LAST))
    for bad, message in [
        (["--line", "L9"], "unknown line 'L9'"),
        (["--to", "2026-11-17"], "--to is before --from"),
        (["--from", "2026-13-01"], "is not a date"),
        (["--tenant", "nope"], "unknown tenant 'nope'"),
    ]:
        args = list(argv)
        for flag, value in zip(bad[::2], bad[1::2], strict=True):
            args[args.index(flag) + 1] = value
        with pytest.raises(SystemExit) as exc:
            main(args, runtime=runtime)
        assert exc.value.code != 0 and message in capsys.readouterr().err


def test_the_job_runs_in_one_process_only(runtime, clock, plant_tenant, settings):
    from jobs.scheduler import JobScheduler

    line, products = _line_products(runtime, plant_tenant, "L1")
    insert_rows(runtime, plant_tenant, line, random_rows(np.random.default_rng(9), FIRST, 1, 300, products))
    other = build_runtime(settings, clock=clock)
    first, second = JobScheduler(runtime), JobScheduler(other)  # two processes' schedulers
    try:
        ran = [r.job for r in first.tick()] + [r.job for r in second.tick()]
    finally:
        first.close()
        second.close()
        other.close()
    assert ran.count("rollups") == 1
    with runtime.db.central() as conn:
        runs = conn.execute(select(c.job_runs.c.status).where(c.job_runs.c.job_id == "rollups")).scalars()
        assert runs.all() == ["ok"]
    assert stored_rollups(runtime, plant_tenant, line)
