"""The answers cache in Redis (db 15) is shared by separate processes of one installation."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.settings import PROJECT_ROOT, load_settings
from tests.helpers import suite_now
from tests.provider_server import ProviderServer

REDIS_URL = os.environ.get("CAMET_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# One engine process's broker: fetch once through its own BrokerState, print where it came from.
WORKER = """
import asyncio, sys
from pathlib import Path
from broker import ApiRequest, BrokerState, ExternalAPIService
from core.clock import ManualClock, parse_instant
from core.settings import load_settings

manifest_path, var_dir, redis_url, now = sys.argv[1:5]
settings = load_settings(env="test", var_dir=Path(var_dir), broker_cache_url=redis_url)
state = BrokerState()
manifest = state.manifests.load(Path(manifest_path))
clock = ManualClock(parse_instant(now, "America/Argentina/Buenos_Aires"))
service = ExternalAPIService(manifest, state, settings, clock, tenant="acme", env={})
result = asyncio.run(service.fetch_one(ApiRequest.of("fx", {"start": "2026-11-18"})))
state.close()
print(result.origin, result.payload["rates"][0]["date"])
"""


def run_worker(manifest, var_dir) -> str:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(manifest), str(var_dir), REDIS_URL, suite_now()],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def redis_db15():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    yield client
    client.close()


def test_two_processes_share_answers_through_redis(redis_db15, tmp_path):
    from broker.state import build_cache

    with ProviderServer() as provider:
        manifest = tmp_path / "apis.yml"
        manifest.write_text(f"apis:\n  fx:\n    url: {provider.url('/fx')}\n    internal: true\n"
                            "    cache_ttl_s: 600\n")
        installation = tmp_path / "var"
        try:
            assert run_worker(manifest, installation) == "live 2026-11-18"
            assert run_worker(manifest, installation) == "cache 2026-11-18"
            assert provider.count("/fx") == 1  # the second process made no call
            # Another installation on the same Redis has its own key prefix: no sharing.
            assert run_worker(manifest, tmp_path / "other") == "live 2026-11-18"
            assert provider.count("/fx") == 2
        finally:
            for var_dir in (installation, tmp_path / "other"):
                settings = load_settings(env="test", var_dir=var_dir, broker_cache_url=REDIS_URL)
                cache = build_cache(settings)
                cache.clear()
                cache.close()
