"""Late data corrects the derived data whatever path it takes, on both backends.

Line T1 produces a unit every 10 s from production day D to the clock's day, except for five
gaps of 705 s on D, each one stop once gap analysis has run. Then every write path back-fills one gap with a
detection 312 s into it (the ingestion API over HTTP, the CLI import, the browser upload), and
admin edits change the line's threshold and the shift's breaks. After each step the jobs run,
and the stops and the dashboard's stop figures must equal an independent computation: plain
Python over the same rows (gaps longer than the threshold between consecutive detections,
measured inside planned time written out by hand below), never the job's own code.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select

from cli.defaults import install_tenant_defaults
from core import schema_tenant as t
from core.clock import parse_instant
from core.tenants import create_tenant
from filters.defaults import DEFAULT_FILTER_ROWS
from identity.ingest_keys import create_key
from ingest.batch import parse_batch, write_batch
from ingest.bulk_load import insert_detections
from ingest.plant_metadata import load_plant_text
from jobs.runs import run_by_hand
from manage import main
from stops import job as gap_job
from stops.job import analyse_tenant
from tests import stops_dataset as ds
from tests.stops_support import SLUG, token
from tests.upload_support import finished

D = date(2026, 11, 16)  # a Monday: every shift works; two days before the clock's
NOW = datetime(2026, 11, 18, 15, 30)
LAST = datetime(2026, 11, 18, 14, 30)  # the line is still producing: D is long analysed
GAP_S = 705
LATE_S = 312  # the late row splits 705 s into 312 s + 393 s
GAP_STARTS = [datetime.combine(D, datetime.strptime(h, "%H:%M").time())
              for h in ("07:00", "08:00", "09:00", "11:00", "12:00")]


def _hm(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, datetime.strptime(hhmm, "%H:%M").time())


def planned_windows(extra_breaks: tuple[tuple[str, str], ...] = ()) -> list[tuple[datetime, datetime]]:
    """D's planned time from the plant YAML, by hand: the shift windows minus their breaks."""
    n = D + timedelta(days=1)
    windows = [(_hm(D, "06:00"), _hm(D, "10:00")), (_hm(D, "10:20"), _hm(D, "14:00")),
               (_hm(D, "14:00"), _hm(D, "18:00")), (_hm(D, "18:20"), _hm(D, "22:00")),
               (_hm(D, "22:00"), _hm(n, "02:00")), (_hm(n, "02:20"), _hm(n, "06:00"))]
    for b_start, b_end in extra_breaks:  # a break added to Mañana
        lo, hi = _hm(D, b_start), _hm(D, b_end)
        cut = []
        for s, e in windows:
            cut += [(s, min(e, lo))] if s < lo else []
            cut += [(max(s, hi), e)] if e > hi else []
        windows = [(s, e) for s, e in cut if s < e]
    return windows


def independent(ts: list[datetime], *, threshold_s: float, micro_s: float,
                windows: list[tuple[datetime, datetime]]) -> dict:
    """Stops of D from the raw rows: each gap longer than the threshold with planned time in it."""
    day_lo, day_hi = _hm(D, "06:00"), _hm(D + timedelta(days=1), "06:00")
    stops, micro = [], 0
    for a, b in pairwise(sorted(ts)):
        if not day_lo <= a < day_hi:
            continue
        gap = (b - a).total_seconds()
        if gap <= micro_s:
            continue
        planned = sum(max(0.0, (min(b, e) - max(a, s)).total_seconds()) for s, e in windows)
        if gap > threshold_s and planned > 0:
            stops.append((a, b, planned))
        elif micro_s < gap <= threshold_s:
            micro += 1
    planned_s = sum((e - s).total_seconds() for s, e in windows)
    downtime = sum(p for *_, p in stops)
    return {"stops": stops, "micro": micro, "downtime_s": downtime,
            "availability": 100 * (planned_s - downtime) / planned_s}


def dataset() -> list[datetime]:
    """Every 10 s from D 06:00 to LAST, nothing strictly inside the 705 s gaps."""
    grid = pd.date_range(_hm(D, "06:00"), LAST, freq="10s").to_pydatetime()
    out = [g for g in grid
           if not any(a < g < a + timedelta(seconds=GAP_S) for a in GAP_STARTS)]
    out += [a + timedelta(seconds=GAP_S) for a in GAP_STARTS]
    return sorted(out)


def frame(ts: list[datetime]) -> pd.DataFrame:
    return pd.DataFrame({"ts": pd.to_datetime(ts).astype("datetime64[ms]"), "seq": 0, "product_id": 1,
                         "weight_g": 100.0, "status": np.zeros(len(ts), dtype=np.int8)})


@pytest.fixture
def world(runtime, clock, engine_app):
    clock.set(parse_instant(NOW.isoformat(), "America/Argentina/Buenos_Aires"))
    create_tenant(runtime.db, SLUG, name="ACME", timezone="America/Argentina/Buenos_Aires")
    load_plant_text(runtime.db, SLUG, ds.PLANT_YAML, today=NOW.date())
    meta = runtime.meta.get(SLUG)
    line_id = meta.line_by_code("T1").id
    with runtime.db.tenant(SLUG) as conn:
        conn.execute(delete(t.filters_table))
        conn.execute(insert(t.filters_table), [dict(r, active=True) for r in DEFAULT_FILTER_ROWS])
        insert_detections(conn, line_id, frame(dataset()))
    runtime.meta.invalidate(SLUG)
    install_tenant_defaults(runtime, SLUG, replace=True)
    client = TestClient(engine_app)
    client.headers.update(token(runtime))
    return runtime, client, line_id


def run_jobs(rt) -> None:
    for name in ("gap-analysis", "rollups"):
        assert [r.status for r in run_by_hand(rt, name, SLUG)] == ["ok"]


def raw_ts(rt, line_id: int) -> list[datetime]:
    table = t.detections_table(line_id)
    with rt.db.tenant(SLUG) as conn:
        return [r[0] for r in conn.execute(select(table.c.ts).order_by(table.c.ts))]


def stops_of_d(rt, line_id: int) -> tuple[list[tuple], int]:
    s = t.stops.c
    with rt.db.tenant(SLUG) as conn:
        rows = conn.execute(select(s.kind, s.start_ts, s.end_ts, s.downtime_s)
                            .where(s.line_id == line_id, s.production_date == D).order_by(s.start_ts)).all()
    stops = [(r.start_ts, r.end_ts, pytest.approx(r.downtime_s, abs=1e-3)) for r in rows if r.kind == "stop"]
    return stops, sum(1 for r in rows if r.kind == "micro")


def dashboard(client) -> dict[str, float]:
    fecha = {"preset": "personalizado", "start": D.isoformat(), "end": D.isoformat()}
    res = client.post("/api/v1/dashboard/run", json={"filters": {"fecha": fecha}})
    assert res.status_code == 200, res.text
    return {w["data"]["metric"]: w["data"]["value"] for w in res.json()["widgets"]
            if w["class"] in ("OeeCardWidget", "DowntimeCardWidget") and "data" in w}


def check(rt, client, line_id: int, *, threshold_s: float = 120, micro_s: float = 15,
          extra_breaks: tuple[tuple[str, str], ...] = ()) -> dict:
    """Run the jobs; the stops and the cards equal the independent computation."""
    run_jobs(rt)
    want = independent(raw_ts(rt, line_id), threshold_s=threshold_s, micro_s=micro_s,
                       windows=planned_windows(extra_breaks))
    got, micro = stops_of_d(rt, line_id)
    assert [(a, b, p) for a, b, p in got] == [(a, b, p) for a, b, p in want["stops"]]
    assert micro == want["micro"]
    cards = dashboard(client)
    assert cards["stops"] == len(want["stops"])
    assert cards["micro_stops"] == want["micro"]
    assert cards["downtime_min"] == pytest.approx(want["downtime_s"] / 60, abs=1e-9)
    assert cards["availability"] == pytest.approx(want["availability"], abs=1e-9)
    return want


def late(gap: int) -> datetime:
    return GAP_STARTS[gap] + timedelta(seconds=LATE_S)




def test_every_write_path_and_admin_edit_corrects_the_stops_and_the_dashboard(world, tmp_path):
    rt, client, line_id = world
    first = check(rt, client, line_id)
    assert len(first["stops"]) == 5 and {p for *_, p in first["stops"]} == {GAP_S}

    # The ingestion API (a gateway back-filling an older hour): 705 s → 312 s + 393 s.
    meta = rt.meta.get(SLUG)
    _rec, key = create_key(rt.db, rt.settings, tenant=SLUG, name="gw", lines=["T1"],
                           known_lines=set(meta.lines_by_code))
    body = {"batch_id": "late-1", "detections": [
        {"line": "T1", "ts": late(0).isoformat(), "product_code": "P1", "weight_g": 100, "status": "ok"}]}
    res = client.post("/api/v1/ingest/detections", json=body, headers={"Authorization": f"Bearer {key}"})
    assert res.status_code == 200 and res.json()["rows_inserted"] == 1, res.text
    want = check(rt, client, line_id)
    split = [(a.time().isoformat(), p) for a, _b, p in want["stops"] if a.hour == 7]
    assert split == [("07:00:00", 312.0), ("07:05:12", 393.0)]

    # The command-line import.
    csv = tmp_path / "late.csv"
    csv.write_text(f"ts,product_code,weight_g,status\n{late(1).isoformat()},P1,100,ok\n")
    assert main(["import-detections", "--tenant", SLUG, "--line", "T1", str(csv)], runtime=rt) == 0
    check(rt, client, line_id)

    # The browser upload (background import).
    res = client.post("/api/v1/admin/uploads", params={"line": "T1", "filename": "tarde.csv"},
                      content=f"ts,product_code,weight_g,status\n{late(2).isoformat()},P1,100,ok\n".encode(),
                      headers={"Content-Type": "text/csv"})
    assert res.status_code == 202, res.text
    assert finished(client, res.json()["id"])["status"] == "done"
    want = check(rt, client, line_id)
    assert len(want["stops"]) == 8

    # Admin edits: a higher threshold turns the 312 s gaps into micro-stops...
    line = next(r for r in client.get("/api/v1/admin/plant/lines").json() if r["code"] == "T1")
    edited = {k: v for k, v in line.items() if k != "id"} | {"stop_threshold_s": 350}
    res = client.put(f"/api/v1/admin/plant/lines/{line['id']}", json=edited)
    assert res.status_code == 200, res.text
    want = check(rt, client, line_id, threshold_s=350)
    assert len(want["stops"]) == 5 and want["micro"] == 3

    # ... and a break added over the 11:00 gap leaves it no planned time: no stop.
    shift = next(r for r in client.get("/api/v1/admin/plant/shifts").json() if r["code"] == "manana")
    edited = {k: v for k, v in shift.items() if k != "id"}
    edited["breaks"] = [*edited["breaks"], {"name": "Pausa", "start": "11:00", "end": "11:15"}]
    res = client.put(f"/api/v1/admin/plant/shifts/{shift['id']}", json=edited)
    assert res.status_code == 200, res.text
    want = check(rt, client, line_id, threshold_s=350, extra_breaks=(("11:00", "11:15"),))
    assert len(want["stops"]) == 4


def test_a_late_batch_committed_while_gap_analysis_runs_is_not_lost(world, monkeypatch):
    """A batch lands between two chunks of a run, on a date the run already redid while a mark
    was pending: the run must still pick it up (it used to clear the pending mark at its end)."""
    rt, client, line_id = world
    monkeypatch.setattr(gap_job, "CHUNK_DAYS", 1)  # one production date per transaction
    run_jobs(rt)
    meta = rt.meta.get(SLUG)

    def batch(gap: int) -> None:
        raw = json.dumps({"detections": [{"line": "T1", "ts": late(gap).isoformat(), "product_code": "P1",
                                          "weight_g": 100, "status": "ok"}]}).encode()
        frame, _batch_id, _tenant = parse_batch(raw, "application/json")
        assert write_batch(rt.db, meta, frame, allowed={"T1"}, window=None).rows_inserted == 1

    batch(0)  # marks D − 1 for re-analysis: pending when the run starts
    real_tenant, fired = rt.db.tenant, []

    @contextmanager
    def tenant(slug: str):  # noqa: ANN202 - the DatabaseManager's own shape
        with real_tenant(slug) as conn:
            yield conn
        if fired:
            return
        fired.append("checking")
        s = t.stops.c
        with real_tenant(slug) as conn:
            redone = conn.execute(select(s.id).where(s.start_ts == late(0))).first() is not None
        if redone:  # the chunk of D has committed: a gateway back-fills another hour of D now
            batch(1)
        else:
            fired.clear()

    monkeypatch.setattr(rt.db, "tenant", tenant)
    analyse_tenant(rt, SLUG)
    monkeypatch.setattr(rt.db, "tenant", real_tenant)
    assert fired, "the batch was never sent"
    check(rt, client, line_id)  # the next run is a normal one; the mark must have survived
    got, _micro = stops_of_d(rt, line_id)
    assert [(a.time().isoformat(), p) for a, _b, p in got if a.hour == 8] == [("08:00:00", 312.0),
                                                                            ("08:05:12", 393.0)]
