"""Load test: N users log in and apply the default dashboard with varied presets, for a bounded time.

Builds a throw-away installation (SQLite central + demo tenant from `manage.py seed-demo`, or a
MariaDB one with --mysql-url), creates one user per simulated user (the pages limit runs per
user), then for each target × mode starts the servers, lets the users run, and stops them:

- targets: `serve` (manage.py serve: engine under uvicorn + pages under waitress, two
  processes) and `passenger` (passenger_wsgi:application under waitress, one process);
- modes: `before` (CAMET_RUN_CONCURRENCY=0, CAMET_RESULT_CACHE_TTL_S=0: main's behaviour) and
  `after` (the defaults: admission control, single flight, 30 s result cache).

Each user: GET /login, POST /login (redirected to `/`, which runs the default dashboard), then
POST /dashboard/apply (HTMX, CSRF header) with a random preset and a 2-4 s think time, until
the time is up. Reported per run:
throughput, p50/p95/p99, errors by status, RSS of the server processes (cold at start, warm
after one user applied every preset once, peak, 10 s after each burst, per process) and MariaDB
Threads_connected sampled every second, and (mode `after`, target `serve`) the latency of a
repeated identical engine run. Results go to bench/results/load-<timestamp>.txt/.json.

    .venv/bin/python bench/bench_load.py --users 20 --seconds 60 [--days 14] [--rows N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench._common import ROOT, machine_info, print_machine  # noqa: E402
from cli.serve import waitress_argv  # noqa: E402
from core.settings import load_settings  # noqa: E402

PRESETS = ("hoy", "ayer", "ultimos_7_dias", "este_mes", "turno_actual")
PASSWORD = "carga-de-prueba-123"  # noqa: S105 - throw-away bench users
CSRF = re.compile(r'name="csrf[-_]token"\s+(?:value|content)="([^"]+)"')
MODES = {"before": {"CAMET_RUN_CONCURRENCY": "0", "CAMET_RESULT_CACHE_TTL_S": "0"}, "after": {}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """pid and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def process_label(pid: int) -> str:
    """A short name for a server process: engine, pages, simulator, passenger or serve."""
    with suppress(OSError):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        words = " ".join(a.decode(errors="replace") for a in argv)
        for needle, label in (("uvicorn", "engine"), ("app_flask", "pages"), ("simulate", "simulator"),
                              ("passenger_wsgi", "passenger"), ("serve", "serve")):
            if needle in words:
                return label
    return str(pid)


def rss_by_process(pid: int) -> dict[str, float]:
    """VmRSS in MB of pid and each process below it, by process_label."""
    out: dict[str, float] = {}
    for p in descendants(pid):
        with suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    label = process_label(p)
                    out[label] = round(out.get(label, 0.0) + int(line.split()[1]) / 1024, 1)
    return out


def rss_mb(pid: int) -> float:
    return sum(rss_by_process(pid).values())


def threads_connected(mysql_url: str | None) -> int | None:
    if not mysql_url:
        return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(mysql_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SHOW STATUS LIKE 'Threads_connected'")).one()[1])
    finally:
        engine.dispose()


def fresh_mysql(mysql_url: str) -> None:
    """Drop the central database named by the URL and every `<it>_<tenant>` one, then create it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from core.db_url import parse_db_url
    from core.tenants import ensure_database

    url = parse_db_url(mysql_url)
    name = url.database
    engine = create_engine(url.set(database="mysql"), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for db in conn.execute(text("SHOW DATABASES")).scalars().all():
                if db == name or db.startswith(f"{name}_"):
                    conn.execute(text(f"DROP DATABASE `{db}`"))
    finally:
        engine.dispose()
    ensure_database(mysql_url)


def setup(env: dict[str, str], args: argparse.Namespace) -> None:
    """Seed the demo tenant and create the bench users on a new installation (with --mysql-url,
    the central database and its tenants' are dropped and created again)."""
    if args.mysql_url:
        fresh_mysql(args.mysql_url)
    seed = [sys.executable, "manage.py", "seed-demo", "--days", str(args.days)]
    if args.rows:
        seed += ["--rows", str(args.rows)]
    subprocess.run(seed, cwd=ROOT, env=env, check=True)  # noqa: S603
    code = ("from core.runtime import build_runtime\nfrom core.settings import load_settings\n"
            "from identity.users import create_user\nrt = build_runtime(load_settings())\n"
            f"for i in range({args.users}):\n"
            f"    create_user(rt.db, tenant='demo', username=f'carga{{i}}', password={PASSWORD!r},\n"
            "                role='viewer')\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)  # noqa: S603


def start(target: str, env: dict[str, str]) -> tuple[subprocess.Popen, str, str]:
    """(process, pages URL, engine URL) with both answering."""
    pages, api = free_port(), free_port()
    if target == "serve":
        env = {**env, "CAMET_FLASK_PORT": str(pages), "CAMET_API_PORT": str(api)}
        proc = subprocess.Popen([sys.executable, "manage.py", "serve"], cwd=ROOT, env=env,  # noqa: S603
                                stdout=subprocess.DEVNULL)
        engine = f"http://127.0.0.1:{api}"
    else:
        settings = load_settings(**{k.removeprefix("CAMET_").lower(): v for k, v in env.items()
                                    if k.startswith("CAMET_")})
        argv = waitress_argv(settings, ["passenger_wsgi:application"], host="127.0.0.1", port=pages,
                             engine=True)
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
        engine = f"http://127.0.0.1:{pages}"
    base = f"http://127.0.0.1:{pages}"
    for _ in range(1200):
        with suppress(httpx.HTTPError):
            if (httpx.get(f"{base}/health", timeout=2).status_code == 200
                    and httpx.get(f"{engine}/api/v1/health", timeout=2).status_code == 200):
                return proc, base, engine
        time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"{target} did not start")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server and every process it started (serve's children too), then SIGKILL."""
    pids = descendants(proc.pid)
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=20)
    time.sleep(1)
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


async def user(i: int, base: str, until: float, samples: list[tuple[float, int]],
               logins: list[tuple[float, int]]) -> None:
    rng = random.Random(i)
    async with httpx.AsyncClient(base_url=base, timeout=120, follow_redirects=True) as c:
        token = CSRF.search((await c.get("/login")).text).group(1)
        t0 = time.perf_counter()
        page = await c.post("/login", data={"tenant": "demo", "username": f"carga{i}",
                                            "password": PASSWORD, "csrf_token": token})
        logins.append((time.perf_counter() - t0, page.status_code))  # login + the default dashboard
        if page.status_code != 200:
            return
        headers = {"X-CSRFToken": CSRF.search(page.text).group(1), "HX-Request": "true"}
        await asyncio.sleep(rng.uniform(0, 2))
        while time.monotonic() < until:
            t0 = time.perf_counter()
            try:
                resp = await c.post("/dashboard/apply", data={"fecha": rng.choice(PRESETS)}, headers=headers)
                status = resp.status_code
            except httpx.HTTPError:
                status = 0
            samples.append((time.perf_counter() - t0, status))
            await asyncio.sleep(rng.uniform(2, 4))


async def sampler(pid: int, until: float, mysql_url: str | None, series: list[dict]) -> None:
    t0 = time.monotonic()
    while time.monotonic() < until:
        conns = await asyncio.to_thread(threads_connected, mysql_url)
        parts = rss_by_process(pid)
        series.append({"t": round(time.monotonic() - t0, 1), "rss_mb": round(sum(parts.values()), 1),
                       "rss_by_process": parts, "db_conns": conns})
        await asyncio.sleep(1.0)


def warm_up(base: str) -> None:
    """One user logs in and applies every preset once, so what a process keeps for its lifetime
    (lazy imports, compiled statements, templates, pools) is loaded before RSS is compared."""
    with httpx.Client(base_url=base, timeout=120, follow_redirects=True) as c:
        token = CSRF.search(c.get("/login").text).group(1)
        page = c.post("/login", data={"tenant": "demo", "username": "carga0", "password": PASSWORD,
                                      "csrf_token": token})
        headers = {"X-CSRFToken": CSRF.search(page.text).group(1), "HX-Request": "true"}
        for preset in PRESETS:
            c.post("/dashboard/apply", data={"fecha": preset}, headers=headers)


def repeated_run(engine: str) -> dict:
    """Latency of the same engine run twice (second one from the result cache)."""
    with httpx.Client(base_url=engine, timeout=120) as c:
        login = {"tenant": "demo", "username": "carga0", "password": PASSWORD}
        tok = c.post("/api/v1/auth/token", json=login).json()["access_token"]
        out = []
        for _ in range(3):
            t0 = time.perf_counter()
            r = c.post("/api/v1/dashboard/run", headers={"authorization": f"Bearer {tok}"},
                       json={"filters": {"fecha": {"preset": "ayer"}}})
            out.append({"ms": round((time.perf_counter() - t0) * 1000, 1), "status": r.status_code,
                        "served": r.json().get("meta", {}).get("served"),
                        "server_timing": r.headers.get("server-timing", "")})
        return {"runs": out}


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return (values or [0.0])[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def one(target: str, mode: str, env: dict[str, str], args: argparse.Namespace) -> dict:
    proc, base, engine = start(target, {**env, **MODES[mode]})
    try:
        time.sleep(1)
        idle = rss_mb(proc.pid)
        warm_up(base)
        time.sleep(2)
        warm_parts = rss_by_process(proc.pid)
        warm = sum(warm_parts.values())
        extra = repeated_run(engine) if target == "serve" else {}
        samples: list[tuple[float, int]] = []
        logins: list[tuple[float, int]] = []
        series: list[dict] = []
        bursts: list[dict[str, float]] = []
        wall = 0.0
        for _ in range(args.bursts):  # each burst: every user logs in again, then applies filters
            until = time.monotonic() + args.seconds

            async def go(until: float = until) -> None:
                await asyncio.gather(sampler(proc.pid, until + 10, args.mysql_url, series),
                                     *(user(i, base, until, samples, logins) for i in range(args.users)))
            t0 = time.monotonic()
            asyncio.run(go())
            wall += time.monotonic() - t0
            bursts.append(rss_by_process(proc.pid))
        after_parts = bursts[-1]
        after = sum(after_parts.values())
    finally:
        stop(proc)
    ok = [s for s, st in samples if st == 200]
    errors: dict[str, int] = {}
    for _s, st in samples + logins:
        if st != 200:
            errors[str(st)] = errors.get(str(st), 0) + 1
    return {"target": target, "mode": mode, "requests": len(samples), "ok": len(ok), "errors": errors,
            "throughput_per_s": round(len(ok) / wall, 3), "wall_s": round(wall, 1),
            "logins": len(logins), "login_p50_s": round(pct([s for s, st in logins if st == 200], 50), 3),
            "p50_s": round(pct(ok, 50), 3), "p95_s": round(pct(ok, 95), 3), "p99_s": round(pct(ok, 99), 3),
            "rss_idle_mb": round(idle, 1), "rss_warm_mb": round(warm, 1),
            "rss_peak_mb": max((p["rss_mb"] for p in series), default=0),
            "rss_after_mb": round(after, 1),
            "rss_warm_after_by_process": {k: [warm_parts.get(k), *(b.get(k) for b in bursts)]
                                          for k in sorted(set(warm_parts) | set(after_parts))},
            "db_conns_max": max((p["db_conns"] or 0 for p in series), default=None)
            if args.mysql_url else None,
            "series": series, **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--bursts", type=int, default=1,
                        help="bursts of --seconds on one server, 10 s apart (does what stays grow?)")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--targets", default="serve,passenger")
    parser.add_argument("--modes", default="before,after")
    parser.add_argument("--mysql-url", default=None,
                        help="central DB on MariaDB (demo tenant next to it); dropped and created again, "
                             "with every <name>_* database")
    args = parser.parse_args()
    info = machine_info(("fastapi", "uvicorn", "waitress", "pandas", "sqlalchemy"))
    print_machine(info)
    print(f"load average at start: {os.getloadavg()}")
    var_dir = Path(tempfile.mkdtemp(prefix="camet_load_"))
    env = {**os.environ, "CAMET_VAR_DIR": str(var_dir), "CAMET_ENV": "development",
           "CAMET_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    env.pop("CAMET_ENGINE_URL", None)
    if args.mysql_url:
        env["CAMET_CENTRAL_DB_URL"] = args.mysql_url
    results = []
    try:
        t0 = time.perf_counter()
        setup(env, args)
        print(f"setup (seed-demo --days {args.days}{f' --rows {args.rows}' if args.rows else ''}, "
              f"{args.users} users): {time.perf_counter() - t0:.0f} s")
        for target in args.targets.split(","):
            for mode in args.modes.split(","):
                r = one(target, mode, env, args)
                results.append(r)
                print(f"{target:<9} {mode:<6} login+page p50 {r['login_p50_s']:.2f} s; "
                      f"apply req {r['requests']:>4} ok {r['ok']:>4} err {r['errors']} "
                      f"thr {r['throughput_per_s']:.2f}/s p50 {r['p50_s']:.2f} p95 {r['p95_s']:.2f} "
                      f"p99 {r['p99_s']:.2f} s RSS idle/warm/peak/after {r['rss_idle_mb']:.0f}/"
                      f"{r['rss_warm_mb']:.0f}/"
                      f"{r['rss_peak_mb']:.0f}/{r['rss_after_mb']:.0f} MB db_conns max {r['db_conns_max']}",
                      flush=True)
                print("          RSS warm -> 10 s after each burst, by process (MB): "
                      f"{r['rss_warm_after_by_process']}")
                if r.get("runs"):
                    print(f"          repeated identical engine run: {r['runs']}")
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "bench" / "results" / f"load-{stamp}.json"
    out.write_text(json.dumps({"machine": info, "args": vars(args), "results": results}, indent=1))
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
