"""Helpers to log in and to serve the whole product for tests (HTTP and headless Chromium).

- `csrf_from(html)` / `flask_login(client, ...)`: log a Flask test client in through the form.
- `LiveServer`: the Passenger-style combined app (Flask at `/`, engine under `/api`) served by
  waitress on a free 127.0.0.1 port in a background thread.
- `launch_chromium(playwright)` and `browser_login(page, base_url, ...)`: a logged-in page;
  `logged_in_page(browser, ...)` opens one that records its errors, `open_dashboard` also waits
  for the cards and charts; `apply_filters`, `choose_lines` and `wait_charts` drive the dashboard.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

import httpx

from tests.servers import close_waitress, free_port, run_until_closed

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = _CSRF.search(html)
    assert match, "no csrf_token input in page"
    return match.group(1)


def flask_login(client, tenant: str, username: str, password: str, *, next_url: str | None = None):  # noqa: ANN001, ANN201
    """GET the login form, POST it with its CSRF token; returns the POST response."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"csrf_token": token, "tenant": tenant, "username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/login", data=data)


class LiveServer:
    """A WSGI app under waitress in a daemon thread; `url` is its base address."""

    def __init__(self, app: Callable, *, threads: int = 4) -> None:
        from waitress.server import create_server

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = create_server(app, host="127.0.0.1", port=self.port, threads=threads, ident="",
                                     asyncore_loop_timeout=0.2)  # a closed server notices within 0.2 s
        self._thread = threading.Thread(target=run_until_closed, args=(self._server,), daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/health", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("live server did not start")

    def __exit__(self, *_exc: object) -> None:
        close_waitress(self._server)
        self._thread.join(timeout=5)


def combined_app(runtime):  # noqa: ANN001, ANN201
    """Flask at `/` and the engine under `/api` in one WSGI app, as passenger_wsgi builds it,
    with the engine client in-process, all bound to the test's runtime."""
    from a2wsgi import ASGIMiddleware

    from app_fastapi.main import create_app as create_engine
    from app_flask.engine_client import EngineClient
    from app_flask.factory import create_app as create_flask
    from wsgi import PathDispatcher

    engine_wsgi = ASGIMiddleware(create_engine(runtime))
    flask_app = create_flask(runtime, engine=EngineClient(wsgi_app=engine_wsgi))
    return PathDispatcher(engine_wsgi, lambda: flask_app)


def launch_chromium(playwright):  # noqa: ANN001, ANN201
    """Headless Chromium as the CI machine has it."""
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


def browser_login(page, base_url: str, tenant: str, username: str, password: str) -> None:  # noqa: ANN001
    """Fill the login form and wait until the browser has left /login."""
    page.goto(base_url + "/login")
    page.fill("#tenant", tenant)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url, timeout=15_000)


def watched_page(browser, *, viewport: dict[str, int] | None = None, console: bool = True,  # noqa: ANN001, ANN201
                 responses: bool = False):
    """A new es-AR page whose uncaught errors (and console errors, failed responses) collect in
    `page.errors`, so a test ends with `assert page.errors == []`."""
    context = browser.new_context(locale="es-AR", **({"viewport": viewport} if viewport else {}))
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    if console:
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    if responses:
        page.on("response", lambda r: page.errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    return page


def logged_in_page(browser, base_url: str, tenant: str, username: str, password: str,  # noqa: ANN001, ANN201
                   **watch: object):
    """`watched_page` logged in through the form."""
    page = watched_page(browser, **watch)
    browser_login(page, base_url, tenant, username, password)
    return page


def wait_charts(page) -> None:  # noqa: ANN001
    """Wait until every chart card that has data has drawn its Chart.js chart."""
    page.wait_for_function("""() => Array.from(
        document.querySelectorAll('#widget-grid .card--chart.is-ok canvas')).every(c => Chart.getChart(c))""")


def open_dashboard(browser, base_url: str, tenant: str, username: str, password: str,  # noqa: ANN001, ANN201
                   **watch: object):
    """A logged-in page on the dashboard with its cards and charts drawn."""
    page = logged_in_page(browser, base_url, tenant, username, password, **watch)
    page.wait_for_selector("#widget-grid > .card")
    wait_charts(page)
    return page


def apply_filters(page) -> None:  # noqa: ANN001
    """Submit the filter form and wait for the dashboard's `camet:applied` event."""
    page.evaluate("""() => { window.__applied = false;
        document.addEventListener('camet:applied', () => { window.__applied = true; }, {once: true}); }""")
    page.click("#filter-form button[type=submit]")
    page.wait_for_function("() => window.__applied === true")


def choose_lines(page, ids: list[int]) -> None:  # noqa: ANN001
    """Tick exactly the given line ids in the lines multi-select."""
    page.click('.ms[data-param="lineas"] .ms__toggle')
    for box in page.query_selector_all('.ms[data-param="lineas"] input[type=checkbox]'):
        want = int(box.get_attribute("value")) in ids
        if box.is_checked() != want:
            box.click()
    page.keyboard.press("Escape")
