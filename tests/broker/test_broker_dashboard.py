"""The data broker end to end through POST /api/v1/dashboard/run (both backends, real servers)."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app_fastapi.main import create_app
from core.clock import plant_now
from tests.dashboard_support import ERP_ENTRIES, bearer, demo_principal
from tests.provider_server import ProviderServer, closed_port_url

# `clock` marks only the tests whose outcome follows the date (partitions, presets, demo data).
RUN = "/api/v1/dashboard/run"
TIMEOUT_S = 3.0
SLACK_S = 0.5  # event-loop scheduling on a loaded 2-core machine, not the broker's time


@pytest.fixture
def provider():
    with ProviderServer(slow_s=3 * TIMEOUT_S) as server:
        yield server


class Engine:
    """The engine under test and the manifest file it reads (rewritten between runs)."""

    def __init__(self, runtime, client: TestClient, path) -> None:
        self.runtime, self.client, self.path = runtime, client, path
        self._bump = 0

    def use(self, url: str, **keys: object) -> None:
        body = {"timeout_s": TIMEOUT_S, "internal": "true", "cache_ttl_s": 0, "max_bytes": 100_000,
                **keys}
        fields = "".join(f"    {k}: {v}\n" for k, v in body.items())
        self.path.write_text(f"apis:\n  fx_rates:\n    url: {url}\n{fields}{ERP_ENTRIES}")
        self._bump += 1
        stat = self.path.stat()
        os.utime(self.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + self._bump * 1_000_000_000))

    def run(self) -> tuple[dict, float, dict]:
        started = time.perf_counter()
        response = self.client.post(RUN, json={"filters": {}})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
        return response.json(), elapsed, dict(response.headers)


@pytest.fixture
def engine(runtime, demo_tenant, tmp_path):
    runtime.settings.external_apis_file = tmp_path / "apis.yml"
    with TestClient(create_app(runtime)) as client:
        client.headers.update(bearer(runtime, demo_principal(runtime)))
        yield Engine(runtime, client, runtime.settings.external_apis_file)


def split(body: dict) -> tuple[dict, list[dict]]:
    fx = [w for w in body["widgets"] if w["class"] == "ExchangeRateWidget"]
    assert len(fx) == 1
    return fx[0], [w for w in body["widgets"] if w["class"] != "ExchangeRateWidget"]


FAILURES = [
    ("/slow", "sin respuesta en 3 s"),
    ("/fail", "respondió 503"),
    ("/token", "rechazó las credenciales (401)"),
    ("/malformed", "no es JSON válido"),
    ("/big", "demasiado grande"),
    ("/wrong-type", "tipo de contenido inesperado"),
    ("/redirect", "no se siguen redirecciones"),
    (None, "servicio no disponible"),  # connection refused
]


def test_each_failure_costs_only_its_widget_and_at_most_its_timeout(engine, provider):
    engine.use(provider.url("/fx"))
    body, baseline_s, _ = engine.run()
    fx, others = split(body)
    assert fx["error"] is None and fx["data"]["data"]["datasets"]
    for path, fragment in FAILURES:
        engine.use(provider.url(path) if path else closed_port_url(), breaker_failures=100)
        body, elapsed, _ = engine.run()
        fx, others = split(body)
        assert fx["data"] is None and fragment in fx["error"], (path, fx)
        assert fx["error"].startswith("Fuente externa no disponible")
        for widget in others:
            assert widget["error"] is None and widget["data"], (path, widget)
        # The contract: an outage costs at most the API's timeout (+10 %). The engine's own span
        # of the external stage says so precisely; the client's wall time, generously (a healthy
        # run's time varies with the machine's load).
        external = body["meta"]["spans"]["external"]
        assert external[1] - external[0] <= (TIMEOUT_S * 1.1 + SLACK_S) * 1000, (path, external)
        assert elapsed <= TIMEOUT_S * 1.1 + 2 * baseline_s, (path, elapsed, baseline_s)
    check_db_read_and_external_calls_overlap(engine, provider)


@pytest.mark.clock
def test_flapping_provider_is_served_stale_then_fails_fast(engine, provider, clock):
    engine.use(provider.url("/flap"), cache_ttl_s=60, retries=0, breaker_failures=2,
               breaker_cooldown_s=120, timeout_s=10)  # no case here waits for the timeout
    received = plant_now(clock, "America/Argentina/Buenos_Aires")
    body, _, _ = engine.run()
    assert split(body)[0]["data"] and split(body)[0]["stale"] is None
    clock.advance(timedelta(seconds=30))
    engine.run()
    assert provider.count("/flap") == 1  # within the TTL: no call
    provider.healthy = False
    clock.advance(timedelta(minutes=5))
    for expected_calls in (2, 3, 3):  # two failures open the breaker; the third run makes no call
        body, _, _ = engine.run()
        fx, others = split(body)
        assert fx["error"] is None and fx["data"]["data"]["datasets"]
        assert fx["stale"]["label"] == f"datos de {received:%H:%M}"
        assert all(w["error"] is None for w in others)
        assert provider.count("/flap") == expected_calls
    assert "en pausa" in fx["stale"]["reason"]
    notes = [e for e in body["meta"]["errors"] if "circuito abierto" in e]  # the demo user is admin
    assert notes == ["fuente externa 'fx_rates': circuito abierto tras 2 fallas (último error: "
                     "el servicio respondió 500; reintento en 120 s)"]
    provider.healthy = True
    clock.advance(timedelta(seconds=121))
    fx, _ = split(engine.run()[0])
    assert fx["stale"] is None and provider.count("/flap") == 4  # the probe closed the breaker


def check_db_read_and_external_calls_overlap(engine, provider) -> None:
    """Meta spans and Server-Timing show the master-frame read and the API calls overlapping."""
    provider.slow_s = 0.4
    engine.use(provider.url("/slow"), timeout_s=5)
    body, _, headers = engine.run()
    spans = body["meta"]["spans"]
    db, ext = spans["db"], spans["external"]
    assert db[0] <= db[1] and ext[0] <= ext[1]
    assert ext[0] < db[1] and db[0] < ext[1], spans  # the two intervals intersect
    timing = headers["server-timing"]
    assert "span-db;" in timing and "span-external;" in timing
