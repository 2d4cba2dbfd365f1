"""`serve`: the engine (uvicorn) and the pages (waitress) as two processes; Ctrl-C stops both.

With the demo's ingest key in var/ and DEMO_LIVE not "0", the plant simulator runs alongside
as a third process posting detections to the engine (README, "Live data").
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

import httpx

from cli.base import fail, runtime
from cli.demo import DEMO_KEY_FILE
from core.settings import PROJECT_ROOT, Settings
from identity.request_limits import largest_body


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the engine and the web pages as two processes")
    p.add_argument("--host", default=None, help="bind address (default CAMET_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="pages port (default CAMET_FLASK_PORT, 8000)")
    p.add_argument("--api-port", type=int, default=None, help="engine port (default CAMET_API_PORT, 8001)")
    p.set_defaults(handler=serve)


def _wait_ready(url: str, procs: list[subprocess.Popen], timeout_s: float = 90.0) -> bool:
    """Whether the engine answers its health check before any process dies or time runs out.

    The wait is generous because a cold start on a busy 2-core host (imports, migrations,
    metadata) has been seen to take over 30 s; a dead process still ends it at once.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            return False
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def _start_simulator(settings: Settings, engine_url: str, env: dict[str, str]) -> subprocess.Popen | None:
    """The demo gateway (`manage.py simulate`), unless DEMO_LIVE=0 or no demo key exists."""
    if os.environ.get("DEMO_LIVE", "1").strip() == "0":
        return None
    if not (settings.var_dir / DEMO_KEY_FILE).exists():
        print("live demo off: no demo ingest key (run `manage.py seed-demo`)", flush=True)
        return None
    return subprocess.Popen(  # noqa: S603 - fixed argv, no user input
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "simulate", "--url", engine_url],
        cwd=PROJECT_ROOT, env=env,
    )


def uvicorn_options(settings: Settings) -> dict[str, object]:
    """Proxy headers off unless CAMET_TRUSTED_PROXIES names the proxy (uvicorn's default
    believes X-Forwarded-For from 127.0.0.1, which every local client is)."""
    proxies = settings.trusted_proxy_list()
    if not proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(proxies)}


def waitress_options(settings: Settings) -> dict[str, str]:
    """waitress believes X-Forwarded-* only from the one configured proxy, and drops them else."""
    proxies = settings.trusted_proxy_list()
    if not proxies:
        return {}
    if len(proxies) > 1:
        fail("waitress trusts one proxy: CAMET_TRUSTED_PROXIES must name a single address for serve")
    return {"trusted_proxy": proxies[0], "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto",
            "clear_untrusted_proxy_headers": "true"}


def waitress_body_options(settings: Settings, *, engine: bool) -> dict[str, str]:
    """waitress spools a whole request body to a temp file before the app sees it (up to 1 GiB
    by default): cap it at the largest body a route of the served app takes (`engine`: the
    engine is served too, as under Passenger), so a larger one is refused with a 413 from its
    Content-Length before a byte is stored, and a chunked one as soon as it passes the cap."""
    return {"max_request_body_size": str(largest_body(settings, engine=engine) + 1)}  # refused at >=


def waitress_argv(settings: Settings, target: list[str], *, host: str, port: int, engine: bool,
                  threads: int = 8) -> list[str]:
    """The command serving `target` (["module:app"] or ["--call", "module:factory"]) under
    waitress with the product's options: body cap, proxy headers, no Server header."""
    options = {**waitress_options(settings), **waitress_body_options(settings, engine=engine)}
    return [sys.executable, "-m", "waitress", "--host", host, "--port", str(port), "--threads", str(threads),
            "--ident=", *(f"--{k.replace('_', '-')}={v}" for k, v in options.items()), *target]


def _uvicorn_argv(options: dict[str, object]) -> list[str]:
    if not options["proxy_headers"]:
        return ["--no-proxy-headers"]
    return ["--proxy-headers", "--forwarded-allow-ips", str(options["forwarded_allow_ips"])]


def _interrupt(_signum: int, _frame: object) -> None:
    """SIGTERM (and SIGINT, even when inherited as ignored) stop both servers like Ctrl-C."""
    raise KeyboardInterrupt


def serve(args: argparse.Namespace) -> int:
    """Start both servers, print where to go, and stop both on Ctrl-C or when one dies."""
    settings = runtime(args).settings
    host = args.host or settings.host
    port = args.port or settings.flask_port
    api_port = args.api_port or settings.api_port
    if port == api_port:
        fail("the pages port and the engine port must differ")
    engine_url = f"http://{host}:{api_port}"
    env = dict(os.environ, CAMET_ENGINE_URL=engine_url, PYTHONUNBUFFERED="1")
    engine = subprocess.Popen(  # noqa: S603 - fixed argv, no user input
        [sys.executable, "-m", "uvicorn", "--factory", "app_fastapi.main:create_app",
         "--host", host, "--port", str(api_port), "--no-server-header", "--log-level", "warning",
         *_uvicorn_argv(uvicorn_options(settings))],
        cwd=PROJECT_ROOT, env=env,
    )
    pages = subprocess.Popen(  # noqa: S603 - fixed argv, no user input
        waitress_argv(settings, ["--call", "app_flask:create_app"], host=host, port=port, engine=False),
        cwd=PROJECT_ROOT, env=env,
    )
    procs = [engine, pages]
    simulator = None
    try:
        ok = _wait_ready(f"{engine_url}/api/v1/health", procs) and _wait_ready(
            f"http://{host}:{port}/health", procs)
        if not ok:
            fail("a server did not start; see the messages above")
        simulator = _start_simulator(settings, engine_url, env)
        print(f"\nCamet Analytics is running:\n  dashboard  http://{host}:{port}/\n"
              f"  engine     {engine_url}/api/v1/health   (API docs: {engine_url}/api/docs)\n"
              "  demo login tenant 'demo', user 'demo', password 'demo-camet'\n"
              + ("  live demo  simulator posting detections (DEMO_LIVE=0: off)\n" if simulator else "")
              + "Press Ctrl-C to stop both.\n", flush=True)
        signal.signal(signal.SIGTERM, _interrupt)
        signal.signal(signal.SIGINT, _interrupt)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        fail("a server stopped unexpectedly")
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        if simulator is not None:
            procs.append(simulator)
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0
