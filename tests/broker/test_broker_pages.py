"""The page marks stale external data: the card shows "datos de hh:mm" (engine under a2wsgi)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from broker.state import broker_state
from core.clock import plant_now
from tests.browser_utils import flask_login
from tests.dashboard_support import ERP_ENTRIES
from tests.provider_server import ProviderServer

pytestmark = pytest.mark.clock


@pytest.fixture
def provider():
    with ProviderServer() as server:
        yield server


@pytest.fixture
def client(runtime, demo_tenant, provider, tmp_path):
    from a2wsgi import ASGIMiddleware

    from app_fastapi.main import create_app as create_engine
    from app_flask.engine_client import EngineClient
    from app_flask.factory import create_app

    path = tmp_path / "apis.yml"
    path.write_text(f"apis:\n  fx_rates:\n    url: {provider.url('/flap')}\n    internal: true\n"
                    f"    cache_ttl_s: 60\n    retries: 0\n{ERP_ENTRIES}")
    runtime.settings.external_apis_file = path
    engine = EngineClient(wsgi_app=ASGIMiddleware(create_engine(runtime)))  # loop in a thread
    app = create_app(runtime, engine=engine)
    app.config["RATELIMIT_ENABLED"] = False
    with app.test_client() as c:
        assert flask_login(c, "demo", "demo", "demo-camet").status_code == 302
        yield c
    engine.close()


def fx_card(html: str) -> str:
    match = re.search(r'<article[^>]*data-class="ExchangeRateWidget".*?</article>', html, re.S)
    assert match, "the demo layout has the FX card"
    return match.group(0)


@pytest.mark.parametrize("backend", ["sqlite"])  # rendering: the data path is tested on both
def test_card_shows_the_time_of_the_last_good_answer(client, provider, clock, runtime, backend):
    received = plant_now(clock, "America/Argentina/Buenos_Aires")
    first = fx_card(client.get("/").get_data(as_text=True))
    assert 'data-state="ok"' in first and "badge--stale" not in first
    provider.healthy = False
    clock.advance(timedelta(minutes=10))
    card = fx_card(client.get("/").get_data(as_text=True))
    assert 'data-state="ok"' in card
    assert f"datos de {received:%H:%M}" in card and "badge--stale" in card
    assert "respondió 500" in card  # the reason, in the badge's title
    assert provider.count("/flap") == 2
    assert len(broker_state(runtime).clients) == 1  # a2wsgi's loop thread got one shared client
