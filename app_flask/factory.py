"""Flask application factory: sessions, security layer and blueprints are registered here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from flask import Flask, g, jsonify, redirect, url_for
from jinja2 import ChoiceLoader, FileSystemLoader

from app_flask import i18n, memory_policy, proxy_fix, request_guards, session_store
from app_flask.engine_client import EngineClient, default_client
from app_flask.login_session import current_identity
from app_flask.views import admin as admin_views
from app_flask.views import admin_dashboards as admin_dashboard_views
from app_flask.views import admin_ops as admin_ops_views
from app_flask.views import admin_plant as admin_plant_views
from app_flask.views import admin_preview as admin_preview_views
from app_flask.views import dashboard as dashboard_views
from app_flask.views import exports as export_views
from app_flask.views import live as live_views
from app_flask.views import login as login_views
from app_flask.views import saved_views as saved_views_views
from app_flask.views import stops as stops_views
from core import db_budget
from core.runtime import Runtime, default_runtime
from core.settings import PROJECT_ROOT, Settings
from identity.ratelimit import key_prefix

SESSION_COOKIE = "camet_session"


def _configure_sessions(app: Flask, settings: Settings) -> None:
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        SESSION_REFRESH_EACH_REQUEST=True,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_idle_minutes),
    )
    session_store.init_app(app, settings, key_prefix=key_prefix(settings) + "-session:")


def _bound_database_waits(app: Flask, settings: Settings) -> None:
    """A page waits for the database at most CAMET_DB_TIMEOUT_S per answer (core/db_budget.py),
    so a database that hangs frees the page threads within seconds."""

    @app.before_request
    def _begin() -> None:
        g.camet_db_wait = db_budget.begin(settings.db_timeout_s)

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        token = g.pop("camet_db_wait", None)
        if token is not None:
            db_budget.end(token)


def create_app(
    runtime: Runtime | None = None,
    engine: EngineClient | None = None,
    *,
    template_dirs: Sequence[Path] = (),
) -> Flask:
    """Build the page server on `runtime` (default: from the environment) and its engine client.

    `template_dirs` are searched before the product's templates: a plugin's filter kinds and
    widget shapes bring their `partials/filters/_<kind>.html` / `partials/widgets/_<shape>.html`.
    """
    rt = runtime or default_runtime()
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    if template_dirs:
        app.jinja_loader = ChoiceLoader([FileSystemLoader([str(d) for d in template_dirs]), app.jinja_loader])
    app.config["SECRET_KEY"] = rt.settings.secret("secret_key")
    app.extensions["camet_runtime"] = rt
    app.extensions["camet_engine"] = engine or default_client(rt)
    _configure_sessions(app, rt.settings)
    _bound_database_waits(app, rt.settings)
    memory_policy.init_app(app)
    request_guards.init_app(app, rt.settings)
    i18n.init_app(app)
    app.jinja_env.globals["current_identity"] = current_identity

    @app.get("/favicon.ico")
    def favicon():  # noqa: ANN202 - Flask view
        """Browsers ask for /favicon.ico even with a <link rel="icon">: point them at the SVG."""
        return redirect(url_for("static", filename="favicon.svg"), 301)

    @app.get("/health")
    def health():  # noqa: ANN202 - Flask view
        """Liveness of the page server (the engine has its own /api/v1/health)."""
        return jsonify(status="ok")

    for blueprint in (login_views.bp, dashboard_views.bp, admin_views.bp, admin_dashboard_views.bp,
                      live_views.bp, stops_views.bp, admin_plant_views.bp, admin_ops_views.bp,
                      saved_views_views.bp, admin_preview_views.bp, export_views.bp):
        app.register_blueprint(blueprint)
    proxy_fix.init_app(app, rt.settings)
    return app
