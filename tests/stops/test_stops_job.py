"""The gap-analysis job on the issue's dataset, through `manage.py jobs run`, on both backends."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from core import schema_central as c
from core import schema_tenant as t
from core.clock import plant_now
from core.shift_calendar import shift_instances
from ingest.csv_import import import_detections
from ingest.plant_metadata import load_plant_text
from manage import main
from stops import job as gap_job
from stops.analysis import analyse_line
from stops.job import analyse_tenant
from tests import stops_dataset as ds
from tests.stops_dataset import EXPECTED_ROWS
from tests.stops_support import SLUG, build_stops_tenant, stop_rows

D, D1 = ds.D, ds.D1


@pytest.fixture
def stops_tenant(runtime, clock) -> int:
    return build_stops_tenant(runtime, clock)


def _readable(runtime) -> list[tuple]:
    codes = {s.id: s.code for s in runtime.meta.get(SLUG).shifts.values()}
    return [(kind, start, end, downtime, day, codes[shift], is_open)
            for _line, kind, start, end, _dur, downtime, day, shift, is_open in stop_rows(runtime)]


def test_jobs_run_writes_the_hand_computed_stops_and_records_the_run(runtime, stops_tenant, capsys):
    assert main(["jobs", "run", "gap-analysis", "--tenant", SLUG], runtime=runtime) == 0
    assert "gap-analysis acme: ok, 10 rows" in capsys.readouterr().out
    assert _readable(runtime) == EXPECTED_ROWS
    with runtime.db.central() as conn:
        run = conn.execute(select(c.job_runs)).one()
    assert (run.job_id, run.tenant_slug, run.status, run.row_count) == ("gap-analysis", SLUG, "ok", 10)
    assert run.finished_at is not None and run.detail is None


def test_a_rerun_and_a_run_killed_between_chunks_leave_identical_rows(runtime, stops_tenant, monkeypatch):
    analyse_tenant(runtime, SLUG)
    clean = stop_rows(runtime)
    analyse_tenant(runtime, SLUG)
    assert stop_rows(runtime) == clean
    monkeypatch.setattr(gap_job, "CHUNK_DAYS", 1)  # one production date per transaction
    with runtime.db.tenant(SLUG) as conn:
        conn.execute(t.stops.delete())
        conn.execute(t.stops_state.delete())
    analyse_tenant(runtime, SLUG, max_chunks=2)  # "killed" after two committed chunks
    partial = stop_rows(runtime)
    assert partial and partial != clean
    analyse_tenant(runtime, SLUG)
    assert stop_rows(runtime) == clean


def test_importing_history_for_an_analysed_period_updates_its_stops(runtime, stops_tenant, tmp_path):
    analyse_tenant(runtime, SLUG)
    history = tmp_path / "history.csv"
    history.write_text("ts,product_code,weight_g,status\n"
                       "2026-11-10T08:00:00,P1,100,ok\n2026-11-10T08:00:10,P1,100,ok\n"
                       "2026-11-10T08:30:00,P1,100,ok\n2026-11-18T00:45:00,P1,100,ok\n")
    meta = runtime.meta.get(SLUG)
    import_detections(runtime.db, meta, "T1", history, clock=runtime.clock)
    with runtime.db.tenant(SLUG) as conn:
        assert conn.execute(select(t.stops_state.c.dirty_from)).scalar() == date(2026, 11, 9)
        batch = conn.execute(select(t.import_batches)).one()
    assert (batch.first_ts, batch.last_ts) == (datetime(2026, 11, 10, 8), datetime(2026, 11, 18, 0, 45))
    assert main(["jobs", "run", "gap-analysis", "--tenant", SLUG], runtime=runtime) == 0
    rows = _readable(runtime)
    assert ("stop", ds.at(date(2026, 11, 10), "08:00:10"), ds.at(date(2026, 11, 10), "08:30:00"), 1790.0,
            date(2026, 11, 10), "manana", False) in rows
    night = [r for r in rows if r[4] == D and r[5] == "noche" and r[0] == "stop"]
    assert [r[3] for r in night] == [900.0, 900.0, 900.0, 10.0]  # 00:30-00:45-01:00 split in two
    with runtime.db.tenant(SLUG) as conn:
        assert conn.execute(select(t.stops_state.c.dirty_from)).scalar() is None


def test_a_threshold_change_marks_the_line_for_reanalysis(runtime, stops_tenant):
    analyse_tenant(runtime, SLUG)
    slower = ds.PLANT_YAML.replace("stop_threshold_s: 120", "stop_threshold_s: 1800, no_data_after_s: 3600")
    load_plant_text(runtime.db, SLUG, slower, today=ds.NOW.date())
    runtime.meta.invalidate(SLUG)
    analyse_tenant(runtime, SLUG)
    rows = _readable(runtime)
    assert ("micro", ds.at(D1, "00:30:00"), ds.at(D1, "01:00:00"), 0.0, D, "noche", False) in rows
    assert not any(r[0] == "stop" and r[3] in (600.0, 900.0) for r in rows)


def test_jobs_list_names_every_job_and_unknown_names_fail(runtime, stops_tenant, capsys):
    assert main(["jobs", "list"], runtime=runtime) == 0
    out = capsys.readouterr().out
    assert "gap-analysis" in out and "partitions" in out
    with pytest.raises(SystemExit) as exc:
        main(["jobs", "run", "nope"], runtime=runtime)
    assert exc.value.code != 0 and "unknown job 'nope'" in capsys.readouterr().err


def test_chunked_job_equals_one_pass_of_the_pure_function_on_demo_data(runtime, demo_tenant, monkeypatch):
    """Independent recomputation: every detection read with plain SQL, analysed in one pass."""
    monkeypatch.setattr(gap_job, "CHUNK_DAYS", 1)
    with runtime.db.tenant(demo_tenant) as conn:
        conn.execute(t.stops.delete())
        conn.execute(t.stops_state.delete())
    analyse_tenant(runtime, demo_tenant)
    meta = runtime.meta.get(demo_tenant)
    now = plant_now(runtime.clock, meta.timezone)
    s = t.stops.c
    for line in meta.lines.values():
        table = t.detections_table(line.id)
        with runtime.db.tenant(demo_tenant) as conn:
            ts = [r[0] for r in conn.execute(select(table.c.ts).order_by(table.c.ts))]
            got = conn.execute(select(s.kind, s.start_ts, s.end_ts, s.downtime_s, s.production_date,
                                      s.shift_id, s.is_open).where(s.line_id == line.id)
                               .order_by(s.start_ts)).all()
        instances = shift_instances(meta, line.id, ts[0].date() - timedelta(days=1), now.date())
        want = analyse_line(pd.to_datetime(ts).to_numpy(), instances, micro_stop_s=line.micro_stop_s,
                            stop_threshold_s=line.stop_threshold_s, now=now)
        assert len(got) == len(want) > 0
        for row, expected in zip(got, want.itertuples(index=False), strict=True):
            assert (row.kind, row.start_ts, row.end_ts, row.production_date, row.shift_id, row.is_open) == (
                expected.kind, expected.start_ts.to_pydatetime(), expected.end_ts.to_pydatetime(),
                expected.production_date, expected.shift_id, expected.is_open)
            assert row.downtime_s == pytest.approx(expected.downtime_s, abs=1e-3)
