"""The data engine: a FastAPI app serving the public JSON API under /api/v1."""

from app_fastapi.main import create_app

__all__ = ["create_app"]
