"""SSRF guard: refused at manifest load (literal addresses) and at call time (DNS answers)."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from broker import ApiRequest, BrokerState, ExternalAPIService, Fetched, parse_manifest
from broker.guard import address_problem, resolve_public
from core.errors import ExternalAPIError, SsrfRefused
from core.settings import load_settings
from tests.provider_server import ProviderServer


@pytest.fixture
def provider():
    with ProviderServer() as server:
        yield server


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://127.0.0.1:3306/", "127.0.0.1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("http://10.1.2.3/erp", "10.1.2.3 is a private address"),
        ("http://192.168.0.10:8080/", "private address"),
        ("http://[::1]:8000/", "::1 is a loopback address"),
        ("http://[::ffff:169.254.169.254]/", "cloud metadata address"),
        ("http://100.64.0.1/", "private address"),
        ("http://0.0.0.0:3306/", "0.0.0.0 is a"),
    ],
)
def test_internal_addresses_are_refused_at_load_with_a_clear_message(url, fragment):
    manifest = parse_manifest(f"apis:\n  bad:\n    url: '{url}'\n")
    assert "bad" not in manifest.apis
    message = manifest.errors["bad"]
    assert fragment in message and "internal: true" in message
    assert manifest.problem("bad").startswith("external_apis.yml, 'bad'")
    marked = parse_manifest(f"apis:\n  ok:\n    url: '{url}'\n    internal: true\n")
    assert "ok" in marked.apis  # a provider you run yourself may be marked internal


def test_public_names_and_addresses_load():
    manifest = parse_manifest("apis:\n  a: {url: 'https://api.open-meteo.com/v1/forecast'}\n"
                              "  b: {url: 'http://93.184.216.34/x'}\n  c: {url: 'http://user:pw@example.com/'}\n")
    assert set(manifest.apis) == {"a", "b"}
    assert "credentials" in manifest.errors["c"]


@pytest.mark.parametrize(
    ("address", "public"),
    [("8.8.8.8", True), ("2606:4700:4700::1111", True), ("127.0.0.5", False), ("172.16.9.1", False),
     ("169.254.1.1", False), ("fe80::1", False), ("fd00:ec2::254", False), ("::ffff:10.0.0.1", False),
     ("224.0.0.1", False)],
)
def test_address_classification(address, public):
    assert (address_problem(ipaddress.ip_address(address)) is None) is public


def test_dns_answer_in_a_private_range_is_refused_at_call_time(provider, clock, tmp_path):
    port = provider.server_address[1]
    url = f"http://localhost:{port}/fx"
    manifest = parse_manifest(f"apis:\n  named:\n    url: '{url}'\n"
                              f"  named_internal:\n    url: '{url}'\n    internal: true\n")
    assert set(manifest.apis) == {"named", "named_internal"}  # a name passes the load check
    state = BrokerState()
    settings = load_settings(env="test", var_dir=tmp_path / "var")
    service = ExternalAPIService(manifest, state, settings, clock, tenant="acme", env={})
    refused, allowed = ApiRequest.of("named"), ApiRequest.of("named_internal")
    results = asyncio.run(service.fetch_many([refused, allowed]))
    state.close()
    assert isinstance(results[refused], ExternalAPIError)
    assert "localhost resuelve a una dirección interna" in results[refused].message
    assert isinstance(results[allowed], Fetched)
    assert provider.count("/fx") == 1  # only the internal-marked entry reached the server
    breaker = state.breakers.peek("named", "acme")
    assert breaker is None or breaker.consecutive == 0  # a refusal is configuration, not an outage


def test_resolve_public_refuses_names_and_literals_of_internal_hosts():
    for host in ("localhost", "127.0.0.1", "169.254.169.254"):
        with pytest.raises(SsrfRefused):
            asyncio.run(resolve_public(host, 80))
    with pytest.raises(SsrfRefused, match="no se pudo resolver"):
        asyncio.run(resolve_public("no-such-host.invalid", 80))
