"""Two apps with two runtimes in one process share nothing, and close() releases what each holds."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app_fastapi.main import create_app as create_engine
from app_flask.factory import create_app as create_pages
from core import migrations
from core.errors import RateLimited
from core.runtime import build_runtime
from core.tenants import create_tenant
from identity.ratelimit import limiter_for
from identity.users import create_user
from tests.helpers import frozen_test_clock

PASSWORD = "clave-de-prueba-123"
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def two_runtimes(settings_factory):
    pair = []
    for _ in range(2):
        rt = build_runtime(settings_factory(), clock=frozen_test_clock())
        migrations.upgrade_central(rt.db.central_engine)
        create_tenant(rt.db, "acme", name="ACME")
        pair.append(rt)
    yield pair
    for rt in pair:
        rt.close()


def _token_status(client: TestClient, username: str) -> int:
    body = {"tenant": "acme", "username": username, "password": PASSWORD}
    return client.post("/api/v1/auth/token", json=body).status_code


def test_a_user_of_one_runtime_is_unknown_to_the_other(two_runtimes):
    one, two = two_runtimes
    create_user(one.db, tenant="acme", username="ana", password=PASSWORD, role="admin")
    engine_one, engine_two = create_engine(one), create_engine(two)
    assert engine_one.state.runtime is one and engine_two.state.runtime is two
    with TestClient(engine_one) as c1, TestClient(engine_two) as c2:
        assert _token_status(c1, "ana") == 200
        assert _token_status(c2, "ana") == 401
    pages_one, pages_two = create_pages(one), create_pages(two)
    assert pages_one.extensions["camet_runtime"] is one and pages_two.extensions["camet_runtime"] is two


def test_rate_limit_counters_are_separate(two_runtimes):
    one, two = two_runtimes
    assert limiter_for(one) is limiter_for(one) and limiter_for(one) is not limiter_for(two)
    for _ in range(2):
        limiter_for(one).hit("2 per minute", "scope", "same-key")
    with pytest.raises(RateLimited):
        limiter_for(one).hit("2 per minute", "scope", "same-key")
    limiter_for(two).hit("2 per minute", "scope", "same-key")


def test_close_releases_engines_and_limiters(two_runtimes):
    one, two = two_runtimes
    limiter_for(one)
    one.meta.get("acme")
    assert one.db._engines and one.limiters
    one.close()
    assert one.db._engines == {} and one.limiters == {} and one.meta._entries == {}
    assert two.db._engines and two.db.ping(two.db.central_engine)
