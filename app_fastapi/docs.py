"""The API docs page: Swagger UI from static/vendor/swagger-ui (copied by `make assets`).

The page and its assets are served by the engine itself under /api/docs, so they work in both
deployment modes (two processes, or Passenger with the engine under /api), with no CDN.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from core.settings import PROJECT_ROOT

DOCS_PATH = "/api/docs"
ASSETS_PATH = DOCS_PATH + "/assets"
ASSETS_DIR = PROJECT_ROOT / "static" / "vendor" / "swagger-ui"


def install(app: FastAPI, *, openapi_url: str) -> None:
    """Mount the local Swagger UI assets and the docs page."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR, check_dir=False), name="swagger-ui")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{app.title} · API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        )
