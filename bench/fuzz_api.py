"""Acceptance fuzz: schemathesis against the engine's OpenAPI, every check, an admin token and
a gateway key.

Seeds the demo tenant in a temporary var directory (SQLite by default, `--mysql` for MariaDB
at CAMET_TEST_MYSQL_URL), starts the engine with uvicorn on 127.0.0.1 in a subprocess, gets a
token for a dedicated admin and creates a gateway key for every line of a second tenant with the
demo plant (the ingestion route takes a gateway key, not a token: bench/schemathesis.toml sends
it to that operation only, from CAMET_FUZZ_INGEST_KEY; in another tenant, so the admin's own
calls, which list and revoke the demo's keys, cannot revoke it), runs `schemathesis run
--checks all` and prints the machine, the
number of requests, the server errors and the check failures. Exit status 0 only when the run
made at least --min-requests requests with no server error and no failed check.

    .venv/bin/python bench/fuzz_api.py [--max-examples 250] [--max-time 900] [--seed 16] [--mysql]
                                       [--rate-limit 9/s] [--paths REGEX]

`--paths REGEX` fuzzes only the operations whose path matches (e.g. `/admin/plant` after a change
there); acceptance is the full run.

Requests are paced under the engine's per-user limit (600 a minute) so they reach the routes'
logic instead of the rate limiter; the 429 answers that remain (the dashboard run's own, lower
limit) are counted apart.

One worker by default: with two, hypothesis' lambda-source cache once crashed (a tool error,
not an API failure); `--workers 2` is faster on an idle machine.

Not part of `make test` (it takes minutes); `make fuzz` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from sqlalchemy import update  # noqa: E402

from bench._common import machine_info, print_machine  # noqa: E402
from core.schema_central import users  # noqa: E402
from core.settings import PROJECT_ROOT  # noqa: E402

ADMIN, PASSWORD = "fuzz-admin", "fuzz-admin-clave-2026"
# Far from the small ids a fuzzer tries first, so it does not edit its own account away.
ADMIN_ID = 987_654
GATEWAY_TENANT = "fuzzgw"
CONFIG = PROJECT_ROOT / "bench" / "schemathesis.toml"


def _env(var_dir: Path, central: str) -> dict[str, str]:
    return dict(os.environ, CAMET_ENV="development", CAMET_VAR_DIR=str(var_dir),
                CAMET_CENTRAL_DB_URL=central, CAMET_JWT_TTL_S="3600", CAMET_LOG_LEVEL="ERROR",
                CAMET_RATELIMIT_STORAGE_URI="memory://", PYTHONUNBUFFERED="1")


def seed(env: dict[str, str], rows: int) -> str:
    """Demo tenant (3 days, `rows` detections) plus one admin with a far-away id, and the gateway
    tenant (demo plant, no detections) with a key for all its lines; returns the key."""
    os.environ.update(env)
    from cli.demo import DEMO_PLANT, seed_demo_tenant
    from core.runtime import build_runtime
    from core.settings import load_settings
    from core.tenants import create_tenant
    from identity.ingest_keys import create_key
    from identity.users import create_user
    from ingest.plant_metadata import load_plant_file

    rt = build_runtime(load_settings())
    seed_demo_tenant(rt, days=3, rows=rows, quiet=True)
    uid = create_user(rt.db, tenant="demo", username=ADMIN, password=PASSWORD, role="admin")
    with rt.db.central() as conn:
        conn.execute(update(users).where(users.c.id == uid).values(id=ADMIN_ID))
    create_tenant(rt.db, GATEWAY_TENANT, name="Fuzz gateway")
    load_plant_file(rt.db, GATEWAY_TENANT, DEMO_PLANT, today=rt.clock.now_utc().date())
    lines = sorted(rt.meta.get(GATEWAY_TENANT).lines_by_code)
    _record, key = create_key(rt.db, rt.settings, tenant=GATEWAY_TENANT, name="fuzz-gateway", lines=lines,
                              known_lines=set(lines))
    rt.db.dispose()
    return key


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_engine(env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "uvicorn", "--factory", "app_fastapi.main:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--no-proxy-headers", "--no-server-header", "--log-level", "error"],
        cwd=PROJECT_ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the engine did not start")


def summarise(report: Path) -> dict[str, int]:
    """Requests, server errors, 429s and failed checks from schemathesis' NDJSON event stream."""
    requests = server_errors = limited = failures = 0
    for line in report.read_text().splitlines():
        event = json.loads(line)
        for kind, body in event.items():
            if kind != "ScenarioFinished":
                continue
            for case in (body.get("recorder") or {}).get("interactions", {}).values():
                requests += 1
                status = ((case.get("response") or {}).get("status_code")) or 0
                server_errors += status >= 500
                limited += status == 429
            for checks in (body.get("recorder") or {}).get("checks", {}).values():
                failures += sum(1 for c in checks if str(c.get("status")).lower() == "failure")
    return {"requests": requests, "server_errors": server_errors, "rate_limited": limited,
            "failed_checks": failures}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=250)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=1, help="schemathesis workers (see above)")
    parser.add_argument("--max-time", type=int, default=900,
                        help="seconds; fuzzing and stateful phases repeat until spent (0: no budget)")
    parser.add_argument("--min-requests", type=int, default=3000)
    parser.add_argument("--rate-limit", default="9/s", help="schemathesis pacing ('' for none)")
    parser.add_argument("--mysql", action="store_true", help="central and tenant DBs on MariaDB")
    parser.add_argument("--paths", default="", help="only operations whose path matches this regex")
    args = parser.parse_args()
    print_machine(machine_info(("schemathesis", "fastapi", "starlette", "uvicorn", "SQLAlchemy")))
    tmp = Path(tempfile.mkdtemp(prefix="camet-fuzz-"))
    central = ""
    if args.mysql:
        from sqlalchemy.engine import make_url

        from core.tenants import ensure_database

        base = os.environ.get("CAMET_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
        central = make_url(base).set(database=f"fuzz_{os.getpid()}").render_as_string(hide_password=False)
        ensure_database(central)
    env = _env(tmp / "var", central)
    t0 = time.perf_counter()
    env["CAMET_FUZZ_INGEST_KEY"] = seed(env, args.rows)
    print(f"seed: demo tenant, {args.rows:,} detections, {time.perf_counter() - t0:.1f} s "
          f"({'MariaDB' if args.mysql else 'SQLite'})")
    port = _free_port()
    engine = start_engine(env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        login = {"tenant": "demo", "username": ADMIN, "password": PASSWORD}
        token = httpx.post(f"{base}/api/v1/auth/token", json=login).json()["access_token"]
        report = tmp / "events.ndjson"
        argv = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(CONFIG), "run",
                f"{base}/api/openapi.json", "--checks", "all", "-H", f"Authorization: Bearer {token}",
                "--max-examples", str(args.max_examples), "--seed", str(args.seed),
                "--workers", str(args.workers),
                *(["--max-time", str(args.max_time)] if args.max_time else []),
                *(["--rate-limit", args.rate_limit] if args.rate_limit else []),
                *(["--include-path-regex", args.paths] if args.paths else []),
                "--report", "ndjson", "--report-ndjson-path", str(report), "--output-truncate", "true"]
        t1 = time.perf_counter()
        run = subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True)  # noqa: S603
        seconds = time.perf_counter() - t1
    finally:
        engine.terminate()
        engine.wait(timeout=10)
    (tmp / "schemathesis.txt").write_text(run.stdout)
    print(run.stdout[-6000:])
    print(f"full output: {tmp / 'schemathesis.txt'}")
    figures = summarise(report)
    rate = figures["requests"] / seconds if seconds else 0.0
    print(f"schemathesis: {figures['requests']:,} requests in {seconds:.1f} s ({rate:.0f} req/s), "
          f"{figures['server_errors']} server errors, {figures['failed_checks']} failed checks, "
          f"{figures['rate_limited']} answered 429, "
          f"exit {run.returncode}")
    if args.mysql:
        from tests.conftest import drop_mysql_databases

        drop_mysql_databases(make_url(central).database)
    ok = (run.returncode == 0 and figures["requests"] >= args.min_requests
          and figures["server_errors"] == figures["failed_checks"] == 0)
    print("ACCEPTED" if ok else "NOT ACCEPTED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
