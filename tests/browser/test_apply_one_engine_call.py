"""One "Aplicar filtros" is one engine call: the panel sends back the fields it was rendered
with, so the page does not ask the engine for the filter definitions before each run."""

from __future__ import annotations

import pytest

from tests.browser_utils import LiveServer, apply_filters, choose_lines, launch_chromium, open_dashboard
from tests.dashboard_support import line_ids

pytestmark = pytest.mark.browser


class CountingEngine:
    """The engine's WSGI app, recording the path of every request it serves."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app
        self.paths: list[str] = []

    def __call__(self, environ, start_response):  # noqa: ANN001, ANN204
        self.paths.append(environ.get("PATH_INFO", ""))
        return self.app(environ, start_response)


@pytest.fixture
def counted(runtime, demo_tenant):
    """The Passenger-style app whose engine counts every request, from the pages or the browser."""
    from a2wsgi import ASGIMiddleware

    from app_fastapi.main import create_app as create_engine
    from app_flask.engine_client import EngineClient
    from app_flask.factory import create_app as create_flask
    from wsgi import PathDispatcher

    engine = CountingEngine(ASGIMiddleware(create_engine(runtime)))
    pages = create_flask(runtime, engine=EngineClient(wsgi_app=engine))
    with LiveServer(PathDispatcher(engine, lambda: pages), threads=6) as server:
        yield server, engine


def test_one_apply_is_one_engine_call(runtime, demo_tenant, counted):
    from playwright.sync_api import sync_playwright

    server, engine = counted
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = open_dashboard(browser, server.url, "demo", "demo", "demo-camet", responses=True)
        page.wait_for_load_state("networkidle")
        assert "/api/v1/filters" in engine.paths  # the page itself was rendered from the definitions
        first_line = line_ids(runtime, demo_tenant)[:1]
        choose_lines(page, first_line)
        engine.paths.clear()
        apply_filters(page)
        page.wait_for_load_state("networkidle")
        assert engine.paths == ["/api/v1/dashboard/run"]
        assert page.locator(".ms[data-param=lineas] input[type=checkbox]:checked").count() == 1
        assert f"lineas={first_line[0]}" in page.url
        assert page.errors == []
        browser.close()
