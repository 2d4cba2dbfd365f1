"""Page language: Spanish by default, English on request, through Flask-Babel catalogs.

The choice comes from `?lang=` (remembered in a cookie) or the cookie; the browser's
Accept-Language is not used, so a plant's shared screen stays in Spanish unless asked.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import Babel

from app_flask.login_session import login_required, safe_next
from core.settings import PROJECT_ROOT

LANGUAGES = ("es", "en")
DEFAULT = "es"
COOKIE = "camet_lang"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The requested language if supported, else Spanish."""
    for value in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if value in LANGUAGES:
            return value
    return DEFAULT


@bp.get("/idioma/<code>")
@login_required
def choose(code: str) -> ResponseReturnValue:
    """Remember a language for a year and go back to where the user was."""
    response = redirect(safe_next(request.args.get("next")))
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def init_app(app: Flask) -> None:
    """Install Flask-Babel (gettext in templates) and the language switch route."""
    Babel(app, locale_selector=select_locale,
          default_translation_directories=str(PROJECT_ROOT / "translations"))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.jinja_env.globals["current_lang"] = select_locale
    app.register_blueprint(bp)
