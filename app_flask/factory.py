"""Flask application factory: extensions and blueprints are registered here."""

from __future__ import annotations

from flask import Flask, jsonify

from app_flask.engine_client import EngineClient, default_client
from core.runtime import Runtime, get_runtime, set_runtime
from core.settings import PROJECT_ROOT


def create_app(runtime: Runtime | None = None, engine: EngineClient | None = None) -> Flask:
    """Build the page server; tests pass their own runtime and engine client."""
    if runtime is not None:
        set_runtime(runtime)
    rt = runtime or get_runtime()
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config["SECRET_KEY"] = rt.settings.secret("secret_key")
    app.extensions["camet_engine"] = engine or default_client(rt.settings.engine_url)

    @app.get("/health")
    def health():  # noqa: ANN202 - Flask view
        """Liveness of the page server (the engine has its own /api/v1/health)."""
        return jsonify(status="ok")

    return app
