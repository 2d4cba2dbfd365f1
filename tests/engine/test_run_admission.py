"""Admission control, single flight and the result cache of POST /api/v1/dashboard/run (and of a
widget export, which runs the dashboard through the same admission)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from app_fastapi.main import create_app
from core import schema_tenant as t
from core.errors import Overloaded
from core.metadata_cache import bump_metadata_version
from core.runtime import build_runtime
from engine.run_admission import OVERLOADED_MESSAGE, RunGate
from tests.dashboard_support import bearer, demo_principal, line_ids

# `clock` marks only the tests whose outcome follows the date (partitions, presets, demo data).

RUN = "/api/v1/dashboard/run"
REDIS_URL = "redis://127.0.0.1:6379/15"
ENGINE = "http://engine.internal"  # the in-process host the engine trusts


# ---------------------------------------------------------------- the gate alone

async def _until(predicate) -> None:
    """Yield to the loop until the condition holds (no sleeping on wall time)."""
    for _ in range(100_000):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def _waiting(predicate, tasks) -> None:
    """Wait until `predicate` holds; fail at once if a request already ended (e.g. refused)."""
    for _ in range(6000):
        if predicate():
            return
        ended = [t for t in tasks if t.done()]
        if ended:
            raise AssertionError(f"a request ended early: {ended[0].result().status_code}")
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


def test_identical_runs_in_flight_compute_once():
    async def scenario():
        gate = RunGate(max_running=2, max_queued=0)
        release = asyncio.Event()
        calls = []

        async def compute():
            calls.append(1)
            await release.wait()
            return {"answer": 42}

        tasks = [asyncio.create_task(gate.run("same", compute)) for _ in range(6)]
        await _until(lambda: gate.stats["shared"] == 5)
        release.set()
        results = await asyncio.gather(*tasks)
        assert len(calls) == 1 and gate.stats["computed"] == 1
        assert [r for r, _ in results] == [{"answer": 42}] * 6
        assert sorted(shared for _, shared in results) == [False] + [True] * 5
    asyncio.run(scenario())


def test_a_failure_reaches_every_sharer_and_is_not_kept():
    async def scenario():
        gate = RunGate(max_running=1, max_queued=0)
        release = asyncio.Event()

        async def boom():
            await release.wait()
            raise ValueError("broken")

        tasks = [asyncio.create_task(gate.run("k", boom)) for _ in range(3)]
        await _until(lambda: gate.stats["shared"] == 2)
        release.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(o, ValueError) for o in outcomes)

        async def fine():
            return 1
        assert await gate.run("k", fine) == (1, False)  # the failed flight is gone
    asyncio.run(scenario())


def test_past_running_plus_queue_one_run_is_refused_and_the_rest_finish():
    async def scenario():
        k, queue = 2, 3
        gate = RunGate(max_running=k, max_queued=queue)
        release = asyncio.Event()
        active = []

        async def compute(i=0):
            active.append(i)
            assert gate.load()[0] <= k
            await release.wait()
            return i

        tasks = [asyncio.create_task(gate.run(f"k{i}", lambda i=i: compute(i))) for i in range(k + queue)]
        await _until(lambda: gate.load()[:2] == (k, queue))
        with pytest.raises(Overloaded) as err:
            await gate.run("one more", compute)
        assert err.value.status_code == 503 and err.value.retry_after_s >= 1
        release.set()
        assert sorted(r for r, _ in await asyncio.gather(*tasks)) == list(range(k + queue))
        assert gate.load() == (0, 0, 0) and gate.stats["rejected"] == 1
    asyncio.run(scenario())


# ---------------------------------------------------------------- through HTTP

def _runtime_with(runtime, **changes):
    return replace(runtime, settings=runtime.settings.model_copy(update=changes))


def _filters(runtime, demo_tenant, day_offset: int = 0) -> dict:
    today = runtime.clock.now_utc().date()
    start = today - timedelta(days=1 + day_offset)
    return {"fecha": {"preset": "personalizado", "start": start.isoformat(), "end": today.isoformat()}}


@pytest.mark.clock
def test_repeat_is_a_cache_hit_until_data_or_metadata_move(runtime, demo_tenant, tmp_path):
    manifest = tmp_path / "apis.yml"
    manifest.write_text(runtime.settings.external_apis_file.read_text())
    rt = _runtime_with(runtime, result_cache_ttl_s=300, external_apis_file=manifest)
    body = {"filters": _filters(rt, demo_tenant)}
    with TestClient(create_app(rt)) as client:
        client.headers.update(bearer(rt, demo_principal(rt)))
        first = client.post(RUN, json=body).json()
        second = client.post(RUN, json=body).json()
        assert first["meta"]["served"] == "computed" and second["meta"]["served"] == "cache"
        assert second["widgets"] == first["widgets"]
        assert client.post(RUN, json={"filters": _filters(rt, demo_tenant, 1)}).json()["meta"]["served"] \
            == "computed"  # other filter values, other key

        line = line_ids(rt, demo_tenant)[0]
        newest = datetime.combine(rt.clock.now_utc().date(), datetime.min.time()) + timedelta(hours=1)
        with rt.db.tenant(demo_tenant) as conn:
            product = conn.execute(t.products.select()).first().id
            conn.execute(insert(t.detections_table(line)).values(
                ts=newest + timedelta(days=3), seq=7, product_id=product, weight_g=1.0, status=0))
        third = client.post(RUN, json=body).json()
        assert third["meta"]["served"] == "computed"  # the watermark moved
        assert client.post(RUN, json=body).json()["meta"]["served"] == "cache"

        with rt.db.tenant(demo_tenant) as conn:
            bump_metadata_version(conn)
        assert client.post(RUN, json=body).json()["meta"]["served"] == "computed"

        manifest.write_text(manifest.read_text() + "\n# edited\n")  # external API config changed
        assert client.post(RUN, json=body).json()["meta"]["served"] == "computed"


@pytest.mark.clock
def test_concurrent_identical_requests_run_the_dashboard_once(runtime, demo_tenant):
    rt = _runtime_with(runtime, result_cache_ttl_s=0)
    app = create_app(rt)
    headers = bearer(rt, demo_principal(rt))
    body = {"filters": _filters(rt, demo_tenant)}
    n = 5

    async def scenario():
        from engine.run_admission import dashboard_runs

        runs = dashboard_runs(app, rt)
        gate_open = asyncio.Event()

        async def hold():  # the first run waits until every other request has joined it
            await gate_open.wait()
        runs.gate.before_compute = hold
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ENGINE, headers=headers) as c:
            tasks = [asyncio.create_task(c.post(RUN, json=body, timeout=60)) for _ in range(n)]
            await _waiting(lambda: runs.gate.stats["shared"] >= n - 1, tasks)
            gate_open.set()
            responses = await asyncio.gather(*tasks)
        return runs, responses

    runs, responses = asyncio.run(scenario())
    assert all(r.status_code == 200 for r in responses)
    served = sorted(r.json()["meta"]["served"] for r in responses)
    assert served == ["computed"] + ["shared"] * (n - 1)
    assert runs.gate.stats["computed"] == 1
    assert len({str(r.json()["widgets"]) for r in responses}) == 1


def _export_path(rt, slug: str) -> str:
    """The CSV export of one widget of the tenant's dashboard."""
    with rt.db.tenant(slug) as conn:
        widget = conn.execute(select(t.widget_catalog.c.id).order_by(t.widget_catalog.c.id)).first().id
    return f"/api/v1/exports/widgets/{widget}"


@pytest.mark.clock
@pytest.mark.parametrize("refused_route", ["run", "export"])
def test_full_queue_answers_503_with_retry_after_in_spanish(runtime, demo_tenant, refused_route):
    rt = _runtime_with(runtime, result_cache_ttl_s=0, run_concurrency=1, run_queue=1)
    app = create_app(rt)
    headers = bearer(rt, demo_principal(rt))
    refused_path = RUN if refused_route == "run" else _export_path(rt, demo_tenant)

    async def scenario():
        from engine.run_admission import dashboard_runs

        runs = dashboard_runs(app, rt)
        gate_open = asyncio.Event()

        async def hold():
            await gate_open.wait()
        runs.gate.before_compute = hold
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ENGINE, headers=headers) as c:
            held = [asyncio.create_task(c.post(RUN, json={"filters": _filters(rt, demo_tenant, i)},
                                               timeout=60)) for i in range(2)]
            await _waiting(lambda: runs.gate.load()[:2] == (1, 1), held)
            refused = await c.post(refused_path, json={"filters": _filters(rt, demo_tenant, 5)}, timeout=60)
            gate_open.set()
            return refused, await asyncio.gather(*held)

    refused, held = asyncio.run(scenario())
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"] == "overloaded" and refused.json()["message"] == OVERLOADED_MESSAGE
    assert [r.status_code for r in held] == [200, 200]


@pytest.mark.clock
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_two_engines_share_answers_through_redis(runtime, demo_tenant, clock):
    import redis

    settings = runtime.settings.model_copy(update={"result_cache_url": REDIS_URL, "result_cache_ttl_s": 60})
    first_rt = replace(runtime, settings=settings)
    second_rt = build_runtime(settings, clock=clock)  # its own DB manager, caches and gate
    body = {"filters": _filters(runtime, demo_tenant, 2)}
    try:
        headers = bearer(first_rt, demo_principal(first_rt))
        with TestClient(create_app(first_rt)) as a:
            a.headers.update(headers)
            assert a.post(RUN, json=body).json()["meta"]["served"] == "computed"
        with TestClient(create_app(second_rt)) as b:
            b.headers.update(headers)
            answer = b.post(RUN, json=body).json()
        assert answer["meta"]["served"] == "cache"
    finally:
        second_rt.db.dispose()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter("camet:run:*"):
            client.delete(key)
        client.close()
