"""The plant simulator and its gateway loop: rates, incidents, pause control, real ingestion."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from cli.simulate import read_paused, run
from core import schema_tenant as t
from identity.ingest_keys import create_key
from ingest.plant_metadata import parse_plant
from ingest.simulator import QUIET, GatewayClient, Incidents, PlantSimulator
from tests.cli_support import manage
from tests.conftest import DEMO_PLANT
from tests.servers import asgi_server

PLANT = parse_plant(DEMO_PLANT.read_text(encoding="utf-8"))
IDEAL = {line.code: line.ideal_rate_per_min for line in PLANT.lines}


def _stamps(rows: list[dict], code: str) -> list[datetime]:
    return [datetime.fromisoformat(str(r["ts"]).replace("Z", "+00:00")) for r in rows if r["line"] == code]


def test_quiet_lines_run_near_their_ideal_rate_with_their_own_products(clock):
    sim = PlantSimulator.from_plant(PLANT, clock, seed=3, incidents=QUIET)
    start = clock.now_utc()
    sim.start_at(start)
    clock.advance(timedelta(minutes=30))
    rows = sim.collect()
    products = {p.code: set(p.lines) for p in PLANT.products}
    for code, ideal in IDEAL.items():
        stamps = _stamps(rows, code)
        assert 0.85 * ideal * 30 <= len(stamps) <= ideal * 30, code
        assert stamps == sorted(set(stamps)) and start <= stamps[0] and stamps[-1] <= clock.now_utc()
    assert all(r["line"] in products[r["product_code"]] for r in rows)
    assert {r["status"] for r in rows} <= {"ok", "reject"}
    assert sim.collect() == []  # nothing new until the clock moves


def test_incidents_make_micro_stops_and_stops_beyond_the_thresholds(clock):
    sim = PlantSimulator.from_plant(PLANT, clock, seed=11, incidents=Incidents(stop_per_hour=1.0))
    sim.start_at(clock.now_utc())
    clock.advance(timedelta(hours=8))
    rows = sim.collect()
    kinds = {"micro": 0, "stop": 0}
    for line in PLANT.lines:
        stamps = _stamps(rows, line.code)
        for a, b in zip(stamps, stamps[1:], strict=False):
            gap = (b - a).total_seconds()
            if gap >= line.stop_threshold_s:
                kinds["stop"] += 1
            elif gap >= line.micro_stop_s:
                kinds["micro"] += 1
    assert kinds["micro"] > 10 and kinds["stop"] >= 2, kinds
    rejects = sum(r["status"] == "reject" for r in rows) / len(rows)
    assert 0.005 < rejects < 0.03


def test_a_paused_line_produces_nothing_and_resumes_from_now(clock):
    sim = PlantSimulator.from_plant(PLANT, clock, seed=5, incidents=QUIET)
    sim.start_at(clock.now_utc())
    sim.pause("L2")
    clock.advance(timedelta(minutes=10))
    assert _stamps(sim.collect(), "L2") == []
    resumed_at = clock.now_utc()
    sim.resume("L2")
    clock.advance(timedelta(minutes=1))
    stamps = _stamps(sim.collect(), "L2")
    assert stamps and stamps[0] >= resumed_at


@pytest.fixture
def gateway_world(runtime, plant_tenant, engine_app):
    codes = set(runtime.meta.get(plant_tenant).lines_by_code)
    _rec, key = create_key(runtime.db, runtime.settings, tenant=plant_tenant, name="sim", lines=sorted(codes),
                           known_lines=codes)
    with asgi_server(engine_app) as base:
        yield runtime, plant_tenant, base, key


def _count(runtime, slug: str, code: str) -> int:
    with runtime.db.tenant(slug) as conn:
        table = t.detections_table(runtime.meta.get(slug).line_by_code(code).id)
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_gateway_loop_posts_through_the_api_and_obeys_the_control_file(gateway_world, clock, tmp_path):
    runtime, slug, base, key = gateway_world
    control = tmp_path / "pause.txt"
    control.write_text("L2\n\n")
    assert read_paused(control) == {"L2"} and read_paused(tmp_path / "missing") == set()
    sim = PlantSimulator.from_plant(PLANT, clock, seed=2, incidents=QUIET)
    sim.start_at(clock.now_utc() - timedelta(minutes=5))
    client = GatewayClient(base, key)
    stop = threading.Event()
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(run(sim, client, interval_s=0.05, stop=stop,
                                                             control_file=control)))
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while _count(runtime, slug, "L1") == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join(timeout=30)
        client.close()
    counts = {code: _count(runtime, slug, code) for code in IDEAL}
    assert counts["L2"] == 0 and counts["L1"] > 0.85 * IDEAL["L1"] * 5
    assert done == [sum(counts.values())]


def test_simulate_command_needs_a_key(cli_env, tmp_path):  # noqa: F811
    result = manage("simulate", "--key-file", str(tmp_path / "none.txt"), env=cli_env)
    assert result.returncode != 0 and "cannot read the ingest key" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_starts_the_simulator_only_with_a_demo_key_and_not_with_demo_live_0(monkeypatch, tmp_path):
    from cli.serve import _start_simulator
    from core.settings import load_settings

    settings = load_settings(env="test", var_dir=tmp_path, secret_key="k" * 40, jwt_secret="j" * 40)
    monkeypatch.setenv("DEMO_LIVE", "1")
    assert _start_simulator(settings, "http://127.0.0.1:9", {}) is None  # no var/demo_ingest_key.txt
    (tmp_path / "demo_ingest_key.txt").write_text("cmt_x\n")
    monkeypatch.setenv("DEMO_LIVE", "0")
    assert _start_simulator(settings, "http://127.0.0.1:9", {}) is None
