"""Login in a real browser (headless Chromium) against the combined app served by waitress."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import sync_playwright

from app_flask.factory import SESSION_COOKIE
from tests.browser_utils import LiveServer, browser_login, combined_app, launch_chromium
from tests.helpers import AUTH_PASSWORD

pytestmark = pytest.mark.browser


def test_browser_login_session_cookie_and_logout(auth_world, runtime):
    with LiveServer(combined_app(runtime)) as server, sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page()
        console: list[str] = []
        page.on("console", lambda msg: console.append(msg.text))
        page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))

        page.goto(server.url + "/")
        assert page.url.startswith(server.url + "/login")
        page.fill("#tenant", "acme")
        page.fill("#username", "ana")
        page.fill("#password", "no-es-la-clave")
        page.click("button[type=submit]")
        assert "incorrectos" in page.inner_text(".auth-error")

        browser_login(page, server.url, "acme", "ana", AUTH_PASSWORD)
        assert page.url.rstrip("/") == server.url
        assert "ana" in page.inner_text("header")
        cookies = page.context.cookies()
        assert [c["name"] for c in cookies] == [SESSION_COOKIE]
        session = cookies[0]
        assert session["httpOnly"] and session["sameSite"] == "Lax"
        assert re.fullmatch(r"[A-Za-z0-9_-]{40,64}", session["value"])
        assert page.evaluate("document.cookie") == ""
        assert page.evaluate("typeof htmx === 'object' && typeof Chart === 'function'")
        page.wait_for_function("typeof window.Alpine === 'object'")
        assert page.evaluate("document.querySelector('meta[name=csrf-token]').content.length > 20")

        page.click("form.logout button")
        page.wait_for_url(re.compile(r".*/login$"))
        page.goto(server.url + "/")
        assert "/login" in page.url
        csp_violations = [m for m in console if "Content Security Policy" in m or "Refused" in m]
        assert csp_violations == []
        browser.close()
