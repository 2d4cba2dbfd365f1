"""ExternalAPIService: calls the APIs of the manifest with httpx, concurrently, with timeouts.

    ExternalAPIError        one call failed (down, timeout, non-2xx, not JSON, misconfigured)

`fetch_one` is the single seam where a later issue adds retries with backoff, the circuit
breaker and the TTL cache with stale-on-error; callers only see a payload or ExternalAPIError.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from broker.manifest import ApiSpec, Manifest
from core.errors import CametError

MAX_PAYLOAD_BYTES = 2_000_000
LOCAL_BASE = "http://engine.local"


class ExternalAPIError(CametError):
    """A failed external call; the message is safe to show on the widget's card."""

    status_code = 502
    code = "external_api"

    def __init__(self, api_id: str, message: str) -> None:
        super().__init__(f"{api_id}: {message}")
        self.api_id = api_id
        self.message = message


@dataclass(frozen=True)
class ApiRequest:
    """One call: which API and which parameters (hashable, so equal calls are made once)."""

    api_id: str
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, api_id: str, params: Mapping[str, str] | None = None) -> ApiRequest:
        return cls(api_id, tuple(sorted((str(k), str(v)) for k, v in (params or {}).items())))


class ExternalAPIService:
    """Makes the calls of one dashboard run; a client per batch keeps it event-loop safe."""

    def __init__(
        self,
        manifest: Manifest,
        *,
        env: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        local_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.manifest = manifest
        self._env = env if env is not None else os.environ
        self._transport = transport
        self._local_transport = local_transport

    async def fetch_many(self, requests: Iterable[ApiRequest]) -> dict[ApiRequest, Any]:
        """Every distinct request at once; a value is the payload or an ExternalAPIError."""
        unique = list(dict.fromkeys(requests))
        if not unique:
            return {}
        async with (
            httpx.AsyncClient(transport=self._transport, follow_redirects=False) as client,
            httpx.AsyncClient(transport=self._local_transport, base_url=LOCAL_BASE) as local,
        ):
            results = await asyncio.gather(*(self._guarded(client, local, r) for r in unique))
        return dict(zip(unique, results, strict=True))

    async def _guarded(self, client: httpx.AsyncClient, local: httpx.AsyncClient,
                       request: ApiRequest) -> Any:
        spec = self.manifest.apis.get(request.api_id)
        if spec is not None and spec.is_local:
            if self._local_transport is None:
                return ExternalAPIError(request.api_id, "configuración inválida: sin motor local")
            client = local
        try:
            return await self.fetch_one(client, request)
        except ExternalAPIError as exc:
            return exc

    async def fetch_one(self, client: httpx.AsyncClient, request: ApiRequest) -> Any:
        """One call bounded by the API's timeout; any failure becomes ExternalAPIError."""
        problem = self.manifest.problem(request.api_id)
        if problem:
            raise ExternalAPIError(request.api_id, f"configuración inválida: {problem}")
        spec = self.manifest.apis[request.api_id]
        headers = {"Accept": "application/json", **self._auth_header(request.api_id, spec)}
        params = dict(request.params)
        try:
            response = await asyncio.wait_for(
                client.request(
                    spec.method, spec.url, headers=headers, timeout=spec.timeout_s,
                    params=params if spec.method == "GET" else None,
                    json=params if spec.method == "POST" else None,
                ),
                timeout=spec.timeout_s,
            )
        except (TimeoutError, httpx.TimeoutException):
            raise ExternalAPIError(
                request.api_id, f"sin respuesta en {spec.timeout_s:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise ExternalAPIError(
                request.api_id, f"servicio no disponible ({exc.__class__.__name__})"
            ) from None
        return _decode(request.api_id, response)

    def _auth_header(self, api_id: str, spec: ApiSpec) -> dict[str, str]:
        if not spec.token_env:
            return {}
        token = self._env.get(spec.token_env, "").strip()
        if not token:
            raise ExternalAPIError(api_id, f"falta el token (variable de entorno {spec.token_env})")
        return {"Authorization": f"Bearer {token}"}


def _decode(api_id: str, response: httpx.Response) -> Any:
    if not response.is_success:
        raise ExternalAPIError(api_id, f"el servicio respondió {response.status_code}")
    if len(response.content) > MAX_PAYLOAD_BYTES:
        raise ExternalAPIError(api_id, "respuesta demasiado grande")
    try:
        return response.json()
    except ValueError:
        raise ExternalAPIError(api_id, "la respuesta no es JSON válido") from None
