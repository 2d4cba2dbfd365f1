"""What clients see while MariaDB is frozen (SIGSTOP) for a while: health, runs, pages.

    .venv/bin/python bench/bench_db_freeze.py [--freeze-s 40] [--query-timeout-s 10] [--runs 8]

A private `mariadbd` (tests/private_mariadb.py) holds the demo tenant; the product runs as the
engine under uvicorn and as the Passenger-style single app under waitress with 4 threads (both
in this process, on 127.0.0.1). For each, the server is frozen for --freeze-s seconds (thawed
by a timer, whatever the clients do) and the script prints each client's status and time:
`/api/v1/health` and a dashboard run started together while frozen, then a second run, and
(Passenger) the login
form, a static file and health while --runs runs hold every page thread; then how long after
the thaw a run succeeds again. Other settings are the defaults (CAMET_DB_TIMEOUT_S etc.).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app_fastapi.main import create_app as create_engine  # noqa: E402
from core.runtime import ProcessRuntime  # noqa: E402
from tests.db_faults_support import installation  # noqa: E402
from tests.private_mariadb import private_mariadb  # noqa: E402
from tests.servers import asgi_server, wsgi_server  # noqa: E402
from wsgi import build_application  # noqa: E402

RUN = "/api/v1/dashboard/run"


def timed(call, *args, **kwargs) -> tuple[str, float]:  # noqa: ANN001, ANN002, ANN003
    started = time.monotonic()
    try:
        answer = call(*args, **kwargs)
        what = f"{answer.status_code} {answer.text[:90]!r}"
    except httpx.HTTPError as exc:
        what = f"client gave up: {type(exc).__name__}"
    return what, time.monotonic() - started


def line(label: str, result: tuple[str, float]) -> None:
    what, seconds = result
    print(f"  {label:15} {what:100} {seconds:6.2f} s", flush=True)


def frozen(server, seconds: float) -> threading.Thread:  # noqa: ANN001
    """Freeze now; a timer thaws after `seconds`."""
    server.freeze()
    timer = threading.Timer(seconds, server.thaw)
    timer.start()
    return timer


def recovery(base: str, auth: dict[str, str], thawed_at: float) -> float:
    while True:
        if httpx.post(base + RUN, json={"filters": {}}, headers=auth, timeout=120).status_code == 200:
            return time.monotonic() - thawed_at
        time.sleep(0.2)


def engine_alone(inst, args: argparse.Namespace) -> None:  # noqa: ANN001
    with asgi_server(create_engine(inst.runtime)) as base:
        auth = {"Authorization": f"Bearer {inst.api_token(base)}"}
        started = time.monotonic()
        timer = frozen(inst.server, args.freeze_s)
        print(f"engine (uvicorn), MariaDB frozen {args.freeze_s:g} s:")
        with ThreadPoolExecutor(2) as pool:  # at once: a hung health must not eat the freeze
            health = pool.submit(timed, httpx.get, base + "/api/v1/health", timeout=120)
            run = pool.submit(timed, httpx.post, base + RUN, json={"filters": {}}, headers=auth, timeout=120)
            line("health", health.result())
            line("run", run.result())
        line("run again", timed(httpx.post, base + RUN, json={"filters": {}}, headers=auth, timeout=120))
        timer.join()
        thawed = started + args.freeze_s
        print(f"  a run succeeds {recovery(base, auth, thawed):6.2f} s after the thaw", flush=True)


def passenger(inst, args: argparse.Namespace) -> None:  # noqa: ANN001
    app = build_application(ProcessRuntime(lambda: inst.runtime))
    with wsgi_server(app, threads=4) as base:
        auth = {"Authorization": f"Bearer {inst.api_token(base)}"}
        httpx.get(base + "/static/css/app.css")
        started = time.monotonic()
        timer = frozen(inst.server, args.freeze_s)
        print(f"passenger app (waitress, 4 threads), MariaDB frozen {args.freeze_s:g} s, {args.runs} runs:")
        with ThreadPoolExecutor(args.runs) as pool:
            runs = [pool.submit(timed, httpx.post, base + RUN, json={"filters": {}}, headers=auth,
                                timeout=120) for _ in range(args.runs)]
            time.sleep(0.3)
            for label, path in (("login form", "/login"), ("static file", "/static/css/app.css"),
                                ("health", "/api/v1/health")):
                line(label, timed(httpx.get, base + path, timeout=120))
            for i, run in enumerate(runs):
                line(f"run {i + 1}", run.result())
        timer.join()
        back = recovery(base, auth, started + args.freeze_s)
        print(f"  a run succeeds {back:6.2f} s after the thaw", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--freeze-s", type=float, default=40.0)
    parser.add_argument("--query-timeout-s", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    machine = platform.processor() or platform.machine()
    print(f"{platform.node()}: {machine}, python {platform.python_version()}, defaults but query timeout "
          f"{args.query_timeout_s:g} s")
    root = Path(tempfile.mkdtemp(prefix="camet-freeze-"))
    with private_mariadb(root) as server:
        for scenario in (engine_alone, passenger):
            work = root / scenario.__name__
            work.mkdir()
            # Production waits (the defaults), the finding's query timeout, no result cache.
            with installation("mysql", work, server, query_timeout_s=args.query_timeout_s, db_timeout_s=10.0,
                              db_connect_timeout_s=3.0, db_retry_s=5) as inst:
                scenario(inst, args)
            server.execute("DROP DATABASE IF EXISTS camet_central_demo")
            server.execute("DROP DATABASE IF EXISTS camet_central")


if __name__ == "__main__":
    main()
