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
