"""A Flask test client signed in as the tenant admin, with the page's CSRF token at hand."""

from __future__ import annotations

import re

from tests.browser_utils import flask_login


def signed_in_admin(auth_world, flask_app, page: str = "/admin"):  # noqa: ANN001, ANN201
    """Ana, admin of acme, signed in; `client.csrf` holds the token `page` carries."""
    flask_app.config["RATELIMIT_ENABLED"] = False
    client = flask_app.test_client()
    assert flask_login(client, "acme", "ana", auth_world.password).status_code == 302
    html = client.get(page).get_data(as_text=True)
    client.csrf = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    return client


def admin_api_client(auth_world, engine_app):  # noqa: ANN001, ANN201
    """An engine API client authenticated as ana (admin of acme, which has the default dashboard)."""
    from fastapi.testclient import TestClient

    from cli.defaults import install_tenant_defaults

    install_tenant_defaults(auth_world.runtime, "acme", replace=True)
    client = TestClient(engine_app)
    client.headers.update(auth_world.auth("ana"))
    return client
