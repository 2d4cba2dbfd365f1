"""A real HTTP server on 127.0.0.1 playing an external API: healthy, slow, failing, malformed."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TOKEN = "s3cret-token"  # noqa: S105 - test server
TENANT_TOKENS = {"tok-acme-111": "acme", "tok-zeta-222": "zeta"}  # per-tenant ERP credentials


def fx_payload(query: dict[str, list[str]]) -> dict:
    start = query.get("start", ["2026-01-01"])[0]
    return {"base": query.get("base", ["USD"])[0], "quote": query.get("quote", ["ARS"])[0],
            "rates": [{"date": start, "rate": 1000.5}]}


class _Handler(BaseHTTPRequestHandler):
    server: ProviderServer

    def log_message(self, *_args) -> None:
        return

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading (e.g. the size cap): expected

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        self.server.calls.append((url.path, {k: v[0] for k, v in query.items()}))
        if url.path == "/fx":
            self._send(200, json.dumps(fx_payload(query)).encode())
        elif url.path == "/empty":
            self._send(200, json.dumps({"base": "USD", "quote": "ARS", "rates": []}).encode())
        elif url.path == "/slow":
            with self.server.lock:
                self.server.in_flight += 1
                self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
            time.sleep(self.server.slow_s)
            with self.server.lock:
                self.server.in_flight -= 1
            self._send(200, json.dumps(fx_payload(query)).encode())
        elif url.path == "/fail":
            self._send(503, b'{"error": "down"}')
        elif url.path == "/malformed":
            self._send(200, b'{"base": "USD", "rates": [', "application/json")
        elif url.path == "/wrong-type":
            self._send(200, b"<html>not json</html>", "text/html; charset=utf-8")
        elif url.path == "/big":
            self._send(200, b'{"pad": "' + b"x" * self.server.big_bytes + b'"}')
        elif url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/flap":
            if self.server.healthy:
                self._send(200, json.dumps(fx_payload(query)).encode())
            else:
                self._send(500, b'{"error": "flapping"}')
        elif url.path == "/tenant-erp":
            auth = self.headers.get("Authorization", "").removeprefix("Bearer ")
            owner = TENANT_TOKENS.get(auth)
            if owner is None:
                self._send(401, b'{"error": "unauthorized"}')
            else:
                self._send(200, json.dumps({"owner": owner, "calls": len(self.server.calls)}).encode())
        elif url.path == "/wrong-shape":
            self._send(200, json.dumps({"base": "USD", "rates": "many"}).encode())
        elif url.path == "/token":
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, b'{"error": "unauthorized"}')
            else:
                self._send(200, json.dumps(fx_payload(query)).encode())
        else:
            self._send(404, b'{"error": "not found"}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.calls.append((self.path, body))
        self._send(200, json.dumps({"echo": body}).encode())


class ProviderServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, slow_s: float = 2.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.slow_s = slow_s
        self.big_bytes = 3_000_000
        self.healthy = True
        self.calls: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    def count(self, path: str) -> int:
        """Requests received on `path` so far."""
        return sum(1 for p, _ in self.calls if p == path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def __enter__(self) -> ProviderServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.shutdown()
        self.server_close()


def closed_port_url(path: str = "/down") -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
