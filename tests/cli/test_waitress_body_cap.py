"""waitress spools a request body to a temp file before the app can refuse it: the servers the
product starts cap it at the largest route limit, so a 100 MiB body sent without logging in
is refused (413) and never becomes a temp file larger than that cap.

Each case starts the real command line (`cli.serve.waitress_argv`, as `manage.py serve` and the
Passenger load bench use it) in its own process with TMPDIR pointing at a fresh directory, and
watches that process's open files under /proc while the body streams.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from cli.serve import waitress_argv
from core import migrations
from core.settings import PROJECT_ROOT
from identity.request_limits import largest_body
from tests.servers import free_port

MIB = 1024 * 1024
BODY = 100 * MIB


@pytest.fixture
def backend() -> str:
    """The cap is the web server's: SQLite is enough."""
    return "sqlite"


class SpoolWatch:
    """The largest regular file under `spool` that process `pid` holds open, sampled every 5 ms."""

    def __init__(self, pid: int, spool: Path) -> None:
        self.pid, self.spool, self.largest = pid, str(spool), 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        fds = Path(f"/proc/{self.pid}/fd")
        for fd in fds.iterdir():
            try:
                if os.readlink(fd).startswith(self.spool):
                    self.largest = max(self.largest, fd.stat().st_size)
            except OSError:
                continue

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(0.005)

    def __enter__(self) -> SpoolWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()


def stream_post(port: int, path: str, total: int, *, chunked: bool) -> tuple[str, int]:
    """POST `total` bytes in 1 MiB pieces (never built in memory), stopping as soon as the server
    answers; (status line, bytes sent)."""
    piece = b"a" * MIB
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + ("Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {total}\r\n") + "\r\n")
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head.encode())
        try:
            while sent < total and not select.select([sock], [], [], 0)[0]:
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
                sent += len(piece)
            if chunked and sent >= total:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while we were still sending
        answer = sock.recv(4096).decode("latin-1")
    return answer.split("\r\n", 1)[0], sent


@pytest.fixture
def start_waitress(runtime, tmp_path):
    """Start the product's waitress command for a target; yields (process, port, spool dir, cap)."""
    migrations.upgrade_central(runtime.db.central_engine)
    settings = runtime.settings.model_copy(update={"upload_max_bytes": MIB})
    procs: list[subprocess.Popen] = []

    def start(target: list[str], *, engine: bool) -> tuple[subprocess.Popen, int, Path, int]:
        port, spool = free_port(), tmp_path / f"spool{len(procs)}"
        spool.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMET_")}
        env.update(CAMET_ENV="test", CAMET_VAR_DIR=str(settings.var_dir), CAMET_UPLOAD_MAX_BYTES=str(MIB),
                   CAMET_CENTRAL_DB_URL=settings.central_db_url, TMPDIR=str(spool))
        argv = waitress_argv(settings, target, host="127.0.0.1", port=port, engine=engine, threads=2)
        proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env,  # noqa: S603 - the product's argv
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=60)  # the first builds the app
                return proc, port, spool, largest_body(settings, engine=engine)
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"waitress did not start (exit {proc.poll()})")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def _refused_before_spooled(start, target: list[str], *, engine: bool, paths: list[str],
                            chunked: bool) -> None:
    proc, port, spool, cap = start(target, engine=engine)
    assert cap < 10 * MIB, "the test's upload limit keeps the cap small"
    for path in paths:
        with SpoolWatch(proc.pid, spool) as watch:
            status, sent = stream_post(port, path, BODY, chunked=False)
        assert status.startswith("HTTP/1.1 413"), (path, status)
        assert watch.largest <= cap, f"{path}: a {watch.largest:,}-byte temp file for a {cap:,}-byte cap"
        assert sent < BODY, "refused from the Content-Length, before the body was sent"
    if chunked:
        with SpoolWatch(proc.pid, spool) as watch:
            status, sent = stream_post(port, paths[0], BODY, chunked=True)
        assert status.startswith("HTTP/1.1 413"), status
        # waitress checks the count after each read from the socket: at most one read over.
        assert watch.largest <= cap + 64 * 1024, f"chunked: {watch.largest:,} bytes for a {cap:,}-byte cap"
        assert sent < BODY


def test_the_pages_server_refuses_a_100_mib_body_before_spooling_it(start_waitress):
    """`manage.py serve`'s page server, anonymous POST /login (limit 16 KiB)."""
    _refused_before_spooled(start_waitress, ["--call", "app_flask:create_app"], engine=False,
                            paths=["/login"], chunked=True)


def test_passenger_under_waitress_refuses_a_100_mib_body_before_spooling_it(start_waitress):
    """passenger_wsgi under waitress (the load bench, a plain VPS): pages and engine routes."""
    _refused_before_spooled(start_waitress, ["passenger_wsgi:application"], engine=True,
                            paths=["/api/v1/auth/token", "/login"], chunked=False)


def test_the_lines_for_the_web_server_in_front_of_passenger_follow_the_settings(settings):
    from cli.web_server import limit_lines

    bigger = settings.model_copy(update={"upload_max_bytes": 200 * MIB})
    assert f"LimitRequestBody {largest_body(settings)}\n" in limit_lines(settings)
    assert f"client_max_body_size {200 * MIB + 64 * 1024};" in limit_lines(bigger)
