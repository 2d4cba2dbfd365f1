"""ExternalAPIService and DataBroker against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import time

import numpy as np
import pandas as pd
import pytest

from broker import ApiRequest, DataBroker, ExternalAPIError, ExternalAPIService, load_manifest, parse_manifest
from tests.provider_server import TOKEN, ProviderServer, closed_port_url
from widgets.exchange_rate import ExchangeRateWidget
from widgets.kpi import KpiWidget


@pytest.fixture
def provider():
    with ProviderServer(slow_s=1.5) as server:
        yield server


def manifest_for(provider: ProviderServer, **extra: str):
    lines = ["apis:"]
    entries = {
        "fx": f"url: {provider.url('/fx')}\n    timeout_s: 2",
        "slow": f"url: {provider.url('/slow')}\n    timeout_s: 0.3",
        "fail": f"url: {provider.url('/fail')}",
        "malformed": f"url: {provider.url('/malformed')}",
        "down": f"url: {closed_port_url()}\n    timeout_s: 1",
        "secured": f"url: {provider.url('/token')}\n    token_env: FX_TOKEN",
        "posted": f"url: {provider.url('/echo')}\n    method: POST",
        **extra,
    }
    for key, body in entries.items():
        lines.append(f"  {key}:\n    {body}")
    return parse_manifest("\n".join(lines))


def fetch(service: ExternalAPIService, *requests: ApiRequest) -> dict:
    return asyncio.run(service.fetch_many(requests))


def test_healthy_api_returns_payload_and_forwards_params(provider):
    service = ExternalAPIService(manifest_for(provider), env={})
    req = ApiRequest.of("fx", {"base": "EUR", "start": "2026-03-01"})
    result = fetch(service, req)[req]
    assert result == {"base": "EUR", "quote": "ARS", "rates": [{"date": "2026-03-01", "rate": 1000.5}]}
    assert provider.calls == [("/fx", {"base": "EUR", "start": "2026-03-01"})]


@pytest.mark.parametrize(
    ("api", "fragment"),
    [
        ("slow", "sin respuesta en 0.3 s"),
        ("fail", "respondió 503"),
        ("malformed", "no es JSON"),
        ("down", "no disponible"),
        ("secured", "falta el token"),
        ("missing", "declares no API 'missing'"),
    ],
)
def test_each_failure_is_an_error_value_not_an_exception(provider, api, fragment):
    service = ExternalAPIService(manifest_for(provider), env={})
    req = ApiRequest.of(api)
    result = fetch(service, req)[req]
    assert isinstance(result, ExternalAPIError)
    assert fragment in result.message
    assert result.api_id == api


def test_token_from_env_var_is_sent_as_bearer(provider):
    service = ExternalAPIService(manifest_for(provider), env={"FX_TOKEN": TOKEN})
    req = ApiRequest.of("secured")
    assert fetch(service, req)[req]["rates"][0]["rate"] == 1000.5
    wrong = ExternalAPIService(manifest_for(provider), env={"FX_TOKEN": "nope"})
    assert "respondió 401" in fetch(wrong, req)[req].message


def test_post_sends_params_as_json(provider):
    service = ExternalAPIService(manifest_for(provider), env={})
    req = ApiRequest.of("posted", {"a": "1"})
    assert fetch(service, req)[req] == {"echo": {"a": "1"}}


def test_calls_run_concurrently(provider):
    provider.slow_s = 0.5
    manifest = manifest_for(provider, slow2=f"url: {provider.url('/slow')}\n    timeout_s: 3")
    service = ExternalAPIService(manifest, env={})
    reqs = [ApiRequest.of("slow2", {"n": str(i)}) for i in range(3)]
    results = fetch(service, *reqs)
    assert all(not isinstance(v, ExternalAPIError) for v in results.values())
    assert provider.max_in_flight == 3


def test_equal_requests_are_made_once(provider):
    service = ExternalAPIService(manifest_for(provider), env={})
    broker = DataBroker(service)
    widgets = [ExchangeRateWidget(widget_id=i, title="fx", config={"api": "fx"}) for i in (1, 2)]
    payloads = asyncio.run(broker.fetch_external(widgets))
    assert set(payloads) == {1, 2}
    assert payloads[1] == payloads[2]
    assert len(provider.calls) == 1


def test_bad_manifest_entries_are_reported_and_others_still_work(provider, tmp_path):
    text = f"""
apis:
  good: {{url: "{provider.url('/fx')}"}}
  no_scheme: {{url: "ftp://x"}}
  bad_timeout: {{url: "http://127.0.0.1:1/x", timeout_s: -1}}
  extra_key: {{url: "http://127.0.0.1:1/x", retries: 3}}
  bad_env: {{url: "http://127.0.0.1:1/x", token_env: "lower-case"}}
"""
    path = tmp_path / "external_apis.yml"
    path.write_text(text)
    manifest = load_manifest(path)
    assert set(manifest.apis) == {"good"}
    assert set(manifest.errors) == {"no_scheme", "bad_timeout", "extra_key", "bad_env"}
    assert "http://" in manifest.errors["no_scheme"]
    assert "timeout_s" in manifest.errors["bad_timeout"]
    service = ExternalAPIService(manifest, env={})
    good, bad = ApiRequest.of("good"), ApiRequest.of("bad_timeout")
    results = fetch(service, good, bad)
    assert results[good]["base"] == "USD"
    assert "configuración inválida" in results[bad].message
    assert len(manifest.messages()) == 4


@pytest.mark.parametrize("text", ["apis: [1, 2", "just a string", "apis: 3"])
def test_unusable_manifest_file_is_a_message(text, tmp_path):
    path = tmp_path / "external_apis.yml"
    path.write_text(text)
    manifest = load_manifest(path)
    assert manifest.apis == {}
    assert manifest.file_error and "external_apis.yml" in manifest.file_error
    assert manifest.problem("fx") == manifest.file_error


def test_missing_manifest_file(tmp_path):
    assert "not found" in load_manifest(tmp_path / "nope.yml").file_error


def test_manifest_reloads_when_file_changes(tmp_path, provider):
    path = tmp_path / "external_apis.yml"
    path.write_text("apis:\n  a: {url: 'http://127.0.0.1:1/a'}\n")
    assert set(load_manifest(path).apis) == {"a"}
    path.write_text("apis:\n  b: {url: 'http://127.0.0.1:1/b'}\n")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    assert set(load_manifest(path).apis) == {"b"}


def test_shipped_manifest_is_valid():
    from core.settings import PROJECT_ROOT

    manifest = load_manifest(PROJECT_ROOT / "config" / "external_apis.yml")
    assert manifest.messages() == []
    assert "fx_rates" in manifest.apis


def test_scope_gives_exactly_the_widget_columns_without_copying():
    frame = pd.DataFrame({"status": [0, 1, 0], "weight_g": [10.0, 20.0, 30.0],
                          "ts": pd.date_range("2026-01-01", periods=3)})
    widget = KpiWidget(widget_id=1, title="kg", config={"metric": "kg"})
    scoped = DataBroker.scope(widget, frame)
    assert list(scoped.columns) == ["weight_g"]
    assert scoped["weight_g"].tolist() == [10.0, 20.0, 30.0]
    # Copy-on-write: the scoped frame shares the master's buffer until someone writes.
    assert np.shares_memory(scoped["weight_g"].to_numpy(), frame["weight_g"].to_numpy())


def test_required_columns_is_the_union_of_internal_widgets():
    widgets = [
        KpiWidget(widget_id=1, title="u", config={"metric": "units"}),
        KpiWidget(widget_id=2, title="kg", config={"metric": "kg"}),
        ExchangeRateWidget(widget_id=3, title="fx"),
    ]
    assert DataBroker.required_columns(widgets) == {"is_reject", "weight_g"}
