"""Benchmark: one dashboard run's external calls, before and after the broker's shared state.

A real HTTP provider on 127.0.0.1 (tests/provider_server.py) answers 3 distinct requests per
run. Three ways, each for --runs runs in one event loop (like uvicorn):

    baseline      a new httpx client per run and no cache (the naive way, for comparison)
    shared        the process's shared client (keep-alive connections), cache disabled
    cached        the shared client and the TTL cache: after the first run, no call at all

Reports the machine, sizes, median / p95 ms per run, runs/s, requests the provider received,
peak traced memory, and each way's speed-up over the baseline.

    .venv/bin/python bench/bench_broker.py [--runs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_info, print_machine  # noqa: E402
from broker import ApiRequest, BrokerState, ExternalAPIService, parse_manifest  # noqa: E402
from core.clock import SYSTEM_CLOCK  # noqa: E402
from core.settings import load_settings  # noqa: E402
from tests.provider_server import ProviderServer  # noqa: E402

REQUESTS = [ApiRequest.of("fx", {"base": b, "start": "2026-11-01"}) for b in ("USD", "EUR", "BRL")]


async def run_way(way: str, manifest_text: str, settings, runs: int) -> list[float]:  # noqa: ANN001
    """Milliseconds per run for one way of calling."""
    manifest = parse_manifest(manifest_text)
    shared = BrokerState()
    times = []
    for _ in range(runs):
        state = BrokerState() if way == "baseline" else shared
        service = ExternalAPIService(manifest, state, settings, SYSTEM_CLOCK, tenant="bench", env={},
                                     use_cache=way == "cached")
        t0 = time.perf_counter()
        results = await service.fetch_many(REQUESTS)
        times.append((time.perf_counter() - t0) * 1000)
        assert all(not isinstance(r, Exception) for r in results.values()), results
        if way == "baseline":
            await state.clients.aclose_current()
    await shared.clients.aclose_current()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print_machine(machine_info(("httpx", "httpcore")))
    print(f"sizes: {args.runs} runs x {len(REQUESTS)} distinct requests per run, provider on 127.0.0.1")
    settings = load_settings(env="test", var_dir=Path(tempfile.mkdtemp()) / "var")
    rows = {}
    with ProviderServer() as provider:
        text = f"apis:\n  fx:\n    url: {provider.url('/fx')}\n    internal: true\n    cache_ttl_s: 300\n"
        for way in ("baseline", "shared", "cached"):
            before = len(provider.calls)
            tracemalloc.start()
            times = asyncio.run(run_way(way, text, settings, args.runs))
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            rows[way] = (times, len(provider.calls) - before, peak)
    base = statistics.median(rows["baseline"][0])
    header = ("way", "median ms", "p95 ms", "runs/s", "calls", "peak MiB", "speed-up")
    print(f"{header[0]:<10}" + "".join(f"{h:>10}" for h in header[1:]))
    for way, (times, calls, peak) in rows.items():
        median = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[18]
        print(f"{way:<10}{median:>10.2f}{p95:>10.2f}{1000 / statistics.mean(times):>10.0f}{calls:>10}"
              f"{peak / 2**20:>10.2f}{base / median:>9.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
