"""Implausible timestamps are refused by every write path, and rows years apart cost bounded work.

The plausibility window (core/plausibility.py) runs from the plant's history start (default: now
− 730 days on the injected clock) to now + 300 s. Rows from 1999 or 2030 that got in before the
window existed are written straight into the table: the jobs must still do a bounded amount of
work (chunks, statements and partitions counted, never seconds) and write exactly the stops an
independent computation gives.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from core import partitions
from core import schema_tenant as t
from core.clock import plant_now
from core.db import is_mysql
from core.errors import ImportRejected
from core.partition_upkeep import maintain_tenant
from core.plausibility import Plausibility
from identity.audit import list_events
from identity.ingest_keys import create_key
from identity.users import find_user
from ingest.bulk_load import insert_detections
from ingest.csv_import import import_detections
from ingest.plant_metadata import load_plant_text
from manage import main
from rollups.job import roll_tenant
from stops.job import analyse_tenant
from tests import stops_dataset as ds
from tests.app_flask.test_admin_pages import post
from tests.browser_utils import flask_login
from tests.helpers import TEST_TZ, frozen_test_clock, reused_password_hashes
from tests.stops_dataset import EXPECTED_ROWS
from tests.stops_support import SLUG, build_stops_tenant, stop_rows, token
from tests.upload_support import finished

pytestmark = pytest.mark.clock  # the window follows the clock
LO = "2024-11-18 15:30:00"  # NOW − 730 days
HI = "2026-11-18 15:35:00"  # NOW + 300 s
RANGE = f"(accepted range {LO} – {HI})"


@pytest.fixture
def world(runtime, clock, engine_app):
    line_id = build_stops_tenant(runtime, clock)
    client = TestClient(engine_app)
    client.headers.update(token(runtime))
    return runtime, client, line_id


def _count(rt, line_id: int) -> int:
    table = t.detections_table(line_id)
    with rt.db.tenant(SLUG) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def _row(ts: str) -> dict[str, object]:
    return {"line": "T1", "ts": ts, "product_code": "P1", "weight_g": 100, "status": "ok"}


def test_ingestion_api_refuses_a_batch_with_a_row_outside_the_window(world):
    rt, client, line_id = world
    meta = rt.meta.get(SLUG)
    _rec, key = create_key(rt.db, rt.settings, tenant=SLUG, name="gw", lines=["T1"],
                           known_lines=set(meta.lines_by_code))
    auth = {"Authorization": f"Bearer {key}"}
    before = _count(rt, line_id)
    body = {"batch_id": "b1", "detections": [_row("2026-11-18T15:00:00"), _row("1999-12-31T10:00:00"),
                                             _row("2030-01-01T00:00:00"), _row("2026-11-18T15:35:01")]}
    res = client.post("/api/v1/ingest/detections", json=body, headers=auth)
    assert res.status_code == 422, res.text
    assert res.json()["details"] == [f"row 2: ts before the plant's history start {RANGE}",
                                     f"row 3: ts in the future {RANGE}", f"row 4: ts in the future {RANGE}"]
    assert _count(rt, line_id) == before  # nothing written
    edges = {"batch_id": "b2", "detections": [_row("2024-11-18T15:30:00"), _row("2026-11-18T15:35:00")]}
    res = client.post("/api/v1/ingest/detections", json=edges, headers=auth)
    assert res.status_code == 200 and res.json()["rows_inserted"] == 2, res.text
    again = client.post("/api/v1/ingest/detections", json=edges, headers=auth)  # a resend adds nothing
    assert again.status_code == 200 and again.json()["rows_duplicate"] == 2
    assert _count(rt, line_id) == before + 2


def test_cli_import_lists_them_skips_them_and_imports_history_only_when_asked(world, tmp_path, capsys):
    rt, _client, line_id = world
    csv = tmp_path / "mixed.csv"
    csv.write_text("ts,product_code,weight_g,status\n2026-11-18T15:00:00,P1,100,ok\n"
                   "1999-12-31T10:00:00,P1,100,ok\n2030-01-01T00:00:00,P1,100,ok\n")
    before = _count(rt, line_id)
    args = ["import-detections", "--tenant", SLUG, "--line", "T1", str(csv)]
    with pytest.raises(SystemExit):
        main(args, runtime=rt)
    err = capsys.readouterr().err
    assert f"line 3: ts before the plant's history start {RANGE}" in err
    assert f"line 4: ts in the future {RANGE}" in err and "--allow-history-from" in err
    assert _count(rt, line_id) == before

    assert main([*args, "--skip-bad"], runtime=rt) == 0
    out = capsys.readouterr().out
    assert "skipped line 3" in out and "skipped line 4" in out and "1 inserted" in out
    assert _count(rt, line_id) == before + 1

    # The explicit option opens the past (and says what it costs), never the future.
    assert main([*args, "--skip-bad", "--allow-history-from", "1999-12-01"], runtime=rt) == 0
    out = capsys.readouterr().out
    assert "importing history from 1999-12-01" in out and "partition" in out and "gap-analysis" in out
    assert "skipped line 4: ts in the future" in out and "1 inserted" in out
    assert "history start is now 1999-12-31" in out
    rt.meta.invalidate(SLUG)
    assert rt.meta.get(SLUG).history_start == date(1999, 12, 31)


def test_browser_upload_lists_them_in_spanish_and_takes_the_history_field(world):
    rt, client, line_id = world
    body = "ts,product_code,weight_g,status\n2026-11-18T15:00:00,P1,100,ok\n1999-12-31T10:00:00,P1,100,ok\n"

    def upload(**params: str) -> dict:
        res = client.post("/api/v1/admin/uploads", params={"line": "T1", **params}, content=body.encode(),
                          headers={"Content-Type": "text/csv"})
        assert res.status_code == 202, res.text
        return finished(client, res.json()["id"])

    before = _count(rt, line_id)
    refused = upload()
    assert refused["status"] == "rejected"
    assert refused["bad_rows"] == [
        f"línea 3: ts anterior al inicio del historial de la planta (rango aceptado {LO} – {HI})"]
    assert "Importar historial desde" in refused["message"] and _count(rt, line_id) == before
    assert client.post("/api/v1/admin/uploads", params={"line": "T1", "history_from": "2027-01-01"},
                       content=body.encode(), headers={"Content-Type": "text/csv"}).status_code == 422
    done = upload(history_from="1999-12-01")
    assert done["status"] == "done" and done["rows_inserted"] == 2 and "1999-12-31" in done["message"]


@pytest.mark.settings(plausible_past_days=10, plausible_future_s=0)
def test_the_window_follows_the_settings_and_the_tenants_history_start(world, tmp_path):
    rt, _client, line_id = world
    csv = tmp_path / "old.csv"
    csv.write_text("ts,product_code,weight_g,status\n2026-11-05T10:00:00,P1,100,ok\n")
    meta = rt.meta.get(SLUG)

    def attempt() -> list[str]:
        try:
            import_detections(rt.db, rt.meta.get(SLUG), "T1", csv, clock=rt.clock,
                              plausibility=Plausibility.of(rt.settings))
        except ImportRejected as exc:
            return list(exc.details)
        return []

    assert attempt() == ["line 2: ts before the plant's history start (accepted range "
                         "2026-11-08 15:30:00 – 2026-11-18 15:30:00)"]
    load_plant_text(rt.db, SLUG, ds.PLANT_YAML + 'history_start: "2026-11-01"\n', today=ds.NOW.date())
    rt.meta.invalidate(SLUG)
    assert meta.history_start is None and rt.meta.get(SLUG).history_start == date(2026, 11, 1)
    assert attempt() == [] and _count(rt, line_id) == len(ds.detections()) + 1
    with pytest.raises(ImportRejected) as refused:
        load_plant_text(rt.db, SLUG, ds.PLANT_YAML + "history_start: 2026-12-01\n", today=ds.NOW.date())
    assert refused.value.details == ["history_start: must not be after today (2026-11-18)"]


# --- rows years apart: bounded work, exact stops ---------------------------------------------

class Statements:
    """Counts the statements sent to one engine (a behavioural bound, not a timing)."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        self.engine, self.n = engine, 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: object) -> None:
        self.n += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


def _stray(rt, line_id: int) -> None:
    """Rows that got in before the window existed: one from 1999 and one from 2030."""
    frame = pd.DataFrame({"ts": pd.to_datetime(["1999-12-31 10:00:00", "2030-01-01 00:00:00"]), "seq": 0,
                          "product_id": 1, "weight_g": 100.0, "status": 0})
    with rt.db.tenant(SLUG) as conn:
        insert_detections(conn, line_id, frame)


def _readable(rt) -> list[tuple]:
    codes = {s.id: s.code for s in rt.meta.get(SLUG).shifts.values()}
    return [(kind, start, end, downtime, day, codes[shift], is_open)
            for _line, kind, start, end, _dur, downtime, day, shift, is_open in stop_rows(rt)]


def test_stray_rows_decades_apart_cost_a_few_chunks_and_invent_no_stop(world):
    rt, _client, line_id = world
    _stray(rt, line_id)
    counter = Statements(rt.db.tenant_engine(SLUG))
    try:
        gap = analyse_tenant(rt, SLUG, max_chunks=20)
        gap_statements, counter.n = counter.n, 0
        rolled = roll_tenant(rt, SLUG, max_chunks=20)
        roll_statements = counter.n
    finally:
        counter.close()
    # Nothing before the history start or after now counts: the hand-computed stops, the last one
    # still open at the clock's now (a row from 2030 closes nothing).
    assert _readable(rt) == EXPECTED_ROWS
    assert gap[0].chunks <= 2 and gap_statements < 60
    meta = rt.meta.get(SLUG)
    target = plant_now(rt.clock, meta.timezone).replace(second=0, microsecond=0)
    target -= timedelta(minutes=target.minute % 5)
    with rt.db.tenant(SLUG) as conn:
        rolled_until = conn.execute(select(t.rollups_state.c.rolled_until)).scalar()
        units = conn.execute(select(func.sum(t.rollups.c.units))).scalar()
        table = t.detections_table(line_id)
        raw = conn.execute(select(func.count()).select_from(table).where(table.c.ts < target)).scalar()
        buckets = conn.execute(select(func.count(func.distinct(t.rollups.c.bucket_start)))).scalar()
    assert rolled_until == target and units == raw  # the 1999 row is rolled up, 2030 not yet
    # SQLite spends a statement per bucket holding data; nothing per empty day or bucket
    assert rolled[0].chunks <= 6 and roll_statements < 2 * buckets + 60


@pytest.mark.mysql
@pytest.mark.parametrize("backend", ["mysql"])
def test_partitions_only_for_months_that_hold_rows(world):
    rt, _client, line_id = world
    name = t.detections_table_name(line_id)
    with rt.db.tenant(SLUG) as conn:
        assert is_mysql(conn.engine.url)
        before = set(partitions.existing_partitions(conn, name))
        rollups_before = set(partitions.existing_partitions(conn, t.rollups.name))
    _stray(rt, line_id)  # 1999 lands in the first month's partition, 2030 in pmax
    roll_tenant(rt, SLUG, max_chunks=20)
    maintain_tenant(rt, SLUG)
    ahead = {partitions.partition_name(partitions.add_months(ds.NOW.date(), n))
             for n in range(rt.settings.partition_months_ahead + 1)}
    with rt.db.tenant(SLUG) as conn:
        created = set(partitions.existing_partitions(conn, name)) - before - ahead
        rollups_created = set(partitions.existing_partitions(conn, t.rollups.name)) - rollups_before - ahead
    assert created == {"p203001"}  # the month of the row in pmax, not the 37 between
    assert rollups_created <= {"p199912"}  # the rollup job's months: those holding detections


def _planned(day: date) -> list[tuple[datetime, datetime]]:
    """The dataset plant's planned time of production date `day`, by hand (Mon-Sat, 3 shifts)."""
    if day.isoweekday() == 7:
        return []
    at = lambda d, hm: datetime.combine(d, datetime.strptime(hm, "%H:%M").time())  # noqa: E731
    n = day + timedelta(days=1)
    return [(at(day, "06:00"), at(day, "10:00")), (at(day, "10:20"), at(day, "14:00")),
            (at(day, "14:00"), at(day, "18:00")), (at(day, "18:20"), at(day, "22:00")),
            (at(day, "22:00"), at(n, "02:00")), (at(n, "02:20"), at(n, "06:00"))]


def test_an_explicit_history_import_costs_partitions_and_chunks_for_its_data_only(world, tmp_path, capsys):
    rt, _client, line_id = world
    csv = tmp_path / "history.csv"
    csv.write_text("ts,product_code,weight_g,status\n2026-01-05T06:00:00,P1,100,ok\n"
                   "2026-01-05T06:00:10,P1,100,ok\n2026-01-05T06:00:20,P1,100,ok\n2030-01-01T00:00:00,P1,100,ok\n"
                   "2026-11-17T06:00:00,P1,100,ok\n")  # already stored: adds nothing, but its month counts
    name = t.detections_table_name(line_id)
    with rt.db.tenant(SLUG) as conn:
        mysql = is_mysql(conn.engine.url)
        before = set(partitions.existing_partitions(conn, name)) if mysql else set()
    args = ["import-detections", "--tenant", SLUG, "--line", "T1", "--allow-history-from", "2026-01-01"]
    with pytest.raises(SystemExit):  # the future stays refused, option or not
        main([*args, str(csv)], runtime=rt)
    assert "line 5: ts in the future" in capsys.readouterr().err
    assert main([*args, "--skip-bad", str(csv)], runtime=rt) == 0
    if mysql:
        with rt.db.tenant(SLUG) as conn:
            assert set(partitions.existing_partitions(conn, name)) - before == {"p202601"}  # not Feb-Oct
    gap = analyse_tenant(rt, SLUG, max_chunks=20)
    assert gap[0].chunks <= 4
    rows = _readable(rt)
    assert [r for r in rows if r[4] >= ds.D] == EXPECTED_ROWS
    # Before: the history's gap from 2026-01-05 06:00:20 to the next row (17 Nov 06:00) is a stop
    # in every planned instance it crosses, as the rules say of a silent line in planned history.
    a, b = datetime(2026, 1, 5, 6, 0, 20), ds.FIRST
    want = []
    day = a.date()
    while day < ds.D:
        overlap = sum(max(0.0, (min(b, e) - max(a, s)).total_seconds()) for s, e in _planned(day))
        shifts = {}
        codes = ["manana"] * 2 + ["tarde"] * 2 + ["noche"] * 2
        for (s, e), code in zip(_planned(day), codes[:len(_planned(day))], strict=True):
            shifts[code] = shifts.get(code, 0.0) + max(0.0, (min(b, e) - max(a, s)).total_seconds())
        want += [(day, code, secs) for code, secs in shifts.items() if secs > 0]
        assert overlap == sum(secs for _d, _c, secs in want if _d == day)
        day += timedelta(days=1)
    got = [(r[4], r[5], r[3]) for r in rows if r[4] < ds.D and r[0] == "stop"]
    assert got == want and not [r for r in rows if r[4] < ds.D and r[0] != "stop"]


def test_the_admin_plant_page_sets_and_clears_the_history_start(auth_world, flask_app):
    rt = auth_world.runtime
    flask_app.config["RATELIMIT_ENABLED"] = False
    client = flask_app.test_client()
    assert flask_login(client, "acme", "ana", auth_world.password).status_code == 302
    page = client.get("/admin/planta").get_data(as_text=True)
    client.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    rolling = (plant_now(frozen_test_clock(), TEST_TZ) - timedelta(days=730)).strftime("%Y-%m-%d %H:%M:%S")
    assert "Historial de la planta" in page and rolling in page  # the rolling default, on the clock
    r = post(client, "/admin/planta/historial", {"inicio": "2030-01-01"})
    assert r.status_code == 302 and "error=" in r.headers["Location"]  # after today: refused
    assert rt.meta.get("acme").history_start is None
    r = post(client, "/admin/planta/historial", {"inicio": "2026-11-01"})
    assert r.status_code == 302 and "guardado=" in r.headers["Location"]
    rt.meta.invalidate("acme")
    assert rt.meta.get("acme").history_start == date(2026, 11, 1)
    with rt.db.tenant("acme") as conn:  # every line's stops are redone from the earlier start
        assert set(conn.execute(select(t.stops_state.c.dirty_from)).scalars()) == {date(1970, 1, 1)}
    assert "2026-11-01 00:00:00" in client.get("/admin/planta").get_data(as_text=True)
    assert post(client, "/admin/planta/historial", {"inicio": ""}).status_code == 302
    rt.meta.invalidate("acme")
    assert rt.meta.get("acme").history_start is None
    tid = find_user(rt.db, tenant="acme", username="ana").tenant_id
    audited = [e.detail["after"] for e in list_events(rt.db, tenant_id=tid)
               if (e.detail or {}).get("what") == "plant_settings"]
    assert sorted(audited, key=str) == [{"history_start": "2026-11-01"}, {"history_start": None}]


@pytest.mark.settings(plausible_past_days=1)
def test_seed_demo_older_than_the_default_window_starts_the_plants_history(runtime):
    from cli.demo import DEMO_SLUG, seed_demo_tenant

    with reused_password_hashes():
        result = seed_demo_tenant(runtime, days=3, rows=6_000, quiet=True, rollups=False)
    with runtime.db.tenant(DEMO_SLUG) as conn:  # the gap analysis covered the oldest day too
        first = conn.execute(select(func.min(t.stops.c.production_date))).scalar()
    assert first is not None and first <= result.start.date() + timedelta(days=1)
    runtime.meta.invalidate(DEMO_SLUG)
    assert runtime.meta.get(DEMO_SLUG).history_start == result.start.date()
