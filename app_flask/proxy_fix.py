"""X-Forwarded-For/-Proto believed only from the proxies CAMET_TRUSTED_PROXIES names.

Without the setting nothing changes: the client address is the TCP peer, so a forged header
cannot move the per-IP login limit or the audit log's IP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core.settings import Settings


class TrustedProxyFix:
    """ProxyFix (one hop) for requests whose peer is a trusted proxy; others pass untouched."""

    def __init__(self, app: Callable, proxies: list[str]) -> None:
        self.app = app
        self.fixed = ProxyFix(app, x_for=1, x_proto=1)
        self.proxies = frozenset(proxies)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REMOTE_ADDR") in self.proxies:
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def init_app(app: Flask, settings: Settings) -> None:
    """Wrap the WSGI app only when a trusted proxy is configured."""
    proxies = settings.trusted_proxy_list()
    if proxies:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, proxies)  # type: ignore[method-assign]
