"""Real servers on 127.0.0.1 for tests: WSGI apps under waitress (or the standard library's
wsgiref, which sends an empty CONTENT_LENGTH on every bodiless request), ASGI apps under uvicorn."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import uvicorn
from waitress.server import create_server

WSGI_SERVERS = ("waitress", "wsgiref")


def run_until_closed(server) -> None:  # noqa: ANN001 - a waitress server
    """Run waitress's loop; `close_waitress` from another thread ends it with EBADF."""
    try:
        server.run()
    except OSError:
        pass


def close_waitress(server) -> None:  # noqa: ANN001 - a waitress server
    """Close the listener and every open connection: waitress's loop runs while any channel
    (a browser's keep-alive connection) is open, so closing the listener alone leaves it
    polling until the channel timeout and a join on its thread waits for nothing."""
    server.close()
    for channel in list(server._map.values()):
        channel.close()
    server.task_dispatcher.shutdown(timeout=2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def _in_thread(run: Callable[[], None], stop: Callable[[], None], port: int) -> Iterator[str]:
    """Run a server loop in a daemon thread until the block ends; yields its base URL."""
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/")
        yield base
    finally:
        stop()
        thread.join(timeout=5)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *_args: object) -> None:  # one stderr line per request otherwise
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextmanager
def wsgi_server(app: Callable, threads: int = 4, kind: str = "waitress") -> Iterator[str]:
    """Serve a WSGI app with waitress (or `kind="wsgiref"`) in a thread; yields its base URL."""
    port = free_port()
    if kind == "wsgiref":
        httpd = make_server("127.0.0.1", port, app, server_class=_ThreadingWSGIServer,
                            handler_class=_QuietHandler)

        def stop() -> None:
            httpd.shutdown()
            httpd.server_close()

        with _in_thread(lambda: httpd.serve_forever(poll_interval=0.1), stop, port) as base:
            yield base
        return
    server = create_server(app, host="127.0.0.1", port=port, threads=threads,
                           asyncore_loop_timeout=0.2)  # a closed server notices within 0.2 s
    with _in_thread(lambda: run_until_closed(server), lambda: close_waitress(server), port) as base:
        yield base


@contextmanager
def asgi_server(app: object) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))

    def stop() -> None:
        server.should_exit = True

    with _in_thread(server.run, stop, port) as base:
        yield base
