"""Server-rendered pages: Flask + Jinja2 + HTMX + Alpine.js + Chart.js."""

from app_flask.factory import create_app

__all__ = ["create_app"]
