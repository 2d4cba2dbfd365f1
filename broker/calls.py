"""One HTTP attempt against one API, with every check that makes an answer trustworthy.

    CallFailed   the attempt failed: a safe message, whether a retry may help, and whether it
                 counts against the circuit breaker (configuration problems do not)

Remote calls connect to the address the SSRF guard checked (the declared host goes in the Host
header and TLS SNI), never follow redirects, and read at most `max_bytes` of a JSON body.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from broker.clients import ClientPool
from broker.guard import resolve_public
from broker.manifest import ApiSpec
from core.errors import CallFailed, SsrfRefused

_MIME = re.compile(r"^[a-z0-9.+-]{1,40}/[a-z0-9.+-]{1,60}$")


async def call_api(
    spec: ApiSpec,
    params: dict[str, str],
    *,
    token: str | None,
    budget_s: float,
    pool: ClientPool,
    local: httpx.AsyncClient | None,
) -> Any:
    """The decoded JSON answer of one attempt that must finish within `budget_s`."""
    if budget_s <= 0:
        raise CallFailed(f"sin respuesta en {spec.timeout_s:g} s", retryable=False)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        async with asyncio.timeout(budget_s):
            if spec.is_local:
                if local is None:
                    raise CallFailed("configuración inválida: sin motor local", counts=False)
                return await _exchange(local, spec, spec.url, params, headers, {}, budget_s)
            url, extensions = await _target(spec, headers)
            slot = pool.current()
            async with slot.host_slot(spec.host):
                return await _exchange(slot.client, spec, url, params, headers, extensions, budget_s)
    except (TimeoutError, httpx.TimeoutException):
        raise CallFailed(f"sin respuesta en {spec.timeout_s:g} s", retryable=True) from None
    except httpx.HTTPError as exc:
        raise CallFailed(f"servicio no disponible ({exc.__class__.__name__})", retryable=True) from None


async def _target(spec: ApiSpec, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The URL to connect to: the checked address (pinned) unless the entry is internal."""
    if spec.internal:
        return spec.url, {}
    parts = urlsplit(spec.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = await resolve_public(spec.host, port)
    except SsrfRefused as exc:
        raise CallFailed(str(exc), counts=False) from None
    shown = f"[{address}]" if ":" in address else address
    headers["Host"] = parts.netloc
    extensions = {"sni_hostname": spec.host} if parts.scheme == "https" else {}
    pinned = urlunsplit((parts.scheme, f"{shown}:{port}", parts.path, parts.query, parts.fragment))
    return pinned, extensions


async def _exchange(
    client: httpx.AsyncClient, spec: ApiSpec, url: str, params: dict[str, str],
    headers: dict[str, str], extensions: dict[str, Any], budget_s: float,
) -> Any:
    async with client.stream(
        spec.method, url, headers=headers, timeout=budget_s, extensions=extensions,
        params=params if spec.method == "GET" else None,
        json=params if spec.method == "POST" else None,
    ) as response:
        _check_head(response, spec)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > spec.max_bytes:
                raise CallFailed("respuesta demasiado grande")
    try:
        return json.loads(bytes(body))
    except ValueError:
        raise CallFailed("la respuesta no es JSON válido") from None


def _check_head(response: httpx.Response, spec: ApiSpec) -> None:
    status = response.status_code
    if 300 <= status < 400:
        raise CallFailed(f"el servicio intentó redirigir ({status}); no se siguen redirecciones")
    if status in (401, 403):
        raise CallFailed(f"el servicio rechazó las credenciales ({status})")
    if status >= 400:
        raise CallFailed(f"el servicio respondió {status}", retryable=status >= 500 or status == 429)
    if status < 200 or status >= 300:
        raise CallFailed(f"el servicio respondió {status}")
    mime = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if mime != "application/json" and not mime.endswith("+json"):
        shown = mime if _MIME.match(mime) else "desconocido"
        raise CallFailed(f"tipo de contenido inesperado ({shown}); se esperaba JSON")
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > spec.max_bytes:
        raise CallFailed("respuesta demasiado grande")
