"""The Flask security layer: trusted hosts, CSRF, rate limits, secure headers with CSP nonces,
error pages.

`limiter` is module-level so views can decorate at import time; `init_app` binds it (and the
CSRF protection) to one app with the storage from settings. Error answers (app_flask/responses.py)
are a page, or a partial for HTMX requests, and never show a traceback, SQL or versions.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app_flask.login_session import current_identity
from app_flask.responses import error_response, is_htmx
from core.db_errors import as_unavailable
from core.errors import CametError, DatabaseUnavailable
from core.settings import Settings
from identity.ratelimit import DASHBOARD_RUN_PER_USER, key_prefix, storage_options
from identity.request_limits import (
    MAX_FORM_FIELDS,
    MAX_FORM_MEMORY,
    PAGE_DEFAULT_BODY,
    body_limit,
    page_body_limits,
)
from identity.secure_headers import page_csp, secure_headers
from identity.trusted_hosts import host_is_trusted, log_refused_host

log = logging.getLogger(__name__)

# A Redis storage that fails (down, frozen: each call gives up after CAMET_REDIS_TIMEOUT_S) makes
# the limits count in this process's memory, with one warning, until Redis answers again.
limiter = Limiter(key_func=get_remote_address, strategy="moving-window", headers_enabled=True,
                  in_memory_fallback_enabled=True, swallow_errors=True)
csrf = CSRFProtect()

CSRF_MESSAGE = "La sesión expiró o el formulario no es válido. Recargá la página e intentá de nuevo."


def _user_key() -> str:
    ident = current_identity()
    return f"user:{ident.tenant}:{ident.user_id}" if ident else f"ip:{get_remote_address()}"


def dashboard_run_limit() -> Callable:
    """Decorator for the dashboard apply route: DASHBOARD_RUN_PER_USER per logged-in user."""
    return limiter.limit(DASHBOARD_RUN_PER_USER, key_func=_user_key, methods=["POST"])


def csp_nonce() -> str:
    """This response's CSP nonce (templates: `nonce="{{ csp_nonce() }}"`)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def _refuse_untrusted_host() -> Response | None:
    """400 (one log line) unless the Host names CAMET_TRUSTED_HOSTS, by the engine's rule.

    Flask's own TRUSTED_HOSTS stays off: it cannot match an IPv6 name, compares case-sensitively,
    and its refusal comes before the URL adapter exists, so the error page itself failed.
    """
    host = request.host  # the Host header, else SERVER_NAME:PORT (PEP 3333)
    if host_is_trusted(host, current_app.config["CAMET_TRUSTED_HOSTS"]):
        return None
    log_refused_host(request.headers.get("Host", host), request.remote_addr)
    return error_response(400)


def _limit_request() -> Response | None:
    """413 before any parsing (and so before CSRF and rate-limit keys read the form) when the
    body is over its route's limit or a urlencoded form has too many fields."""
    limit = body_limit(current_app.config["CAMET_BODY_LIMITS"], PAGE_DEFAULT_BODY, request.path)
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        return error_response(413)
    if request.mimetype == "application/x-www-form-urlencoded":
        data = request.get_data(cache=True)  # bounded by max_content_length, even when chunked
        if data.count(b"&") >= MAX_FORM_FIELDS:
            return error_response(413)
    return None


def init_app(app: Flask, settings: Settings) -> None:
    """Bind request limits, trusted hosts, CSRF, limiter, headers and error handlers to `app`."""
    app.before_request(_refuse_untrusted_host)
    app.before_request(_limit_request)  # before anything else parses a body
    app.config.update(
        # The CSV upload page takes files up to CAMET_UPLOAD_MAX_BYTES (plus its form fields).
        CAMET_BODY_LIMITS=page_body_limits(settings),
        CAMET_TRUSTED_HOSTS=settings.trusted_host_list(),
        MAX_CONTENT_LENGTH=PAGE_DEFAULT_BODY,
        MAX_FORM_MEMORY_SIZE=MAX_FORM_MEMORY,
        MAX_FORM_PARTS=MAX_FORM_FIELDS,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        RATELIMIT_STORAGE_OPTIONS=storage_options(settings.ratelimit_storage_uri, settings.redis_timeout_s),
        RATELIMIT_KEY_PREFIX=key_prefix(settings) + "-flask",
        RATELIMIT_HEADER_RETRY_AFTER_VALUE="delta-seconds",
        WTF_CSRF_TIME_LIMIT=settings.session_absolute_hours * 3600,
        WTF_CSRF_SSL_STRICT=True,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_add_headers)
    _install_error_handlers(app, settings)


def _add_headers(response: Response) -> Response:
    for name, value in secure_headers(csp=page_csp(csp_nonce()), https=request.is_secure).items():
        response.headers[name] = value
    response.headers.pop("Server", None)
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _spanish_engine_503(exc: CametError) -> bool:
    """An engine 503 whose message is written for users (the database or the engine is busy)."""
    body = getattr(exc, "body", None)
    return isinstance(body, dict) and body.get("error") in {"database_unavailable", "overloaded"}


def _install_error_handlers(app: Flask, settings: Settings) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(_exc: CSRFError) -> Response:
        headers = {"HX-Refresh": "true"} if is_htmx() else None
        return error_response(400, CSRF_MESSAGE, headers=headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        headers = {k: v for k, v in exc.get_headers() if k.lower() in {"allow", "retry-after"}}
        return error_response(status, headers=headers)

    @app.errorhandler(CametError)
    def domain_error(exc: CametError) -> Response:
        status = int(getattr(exc, "status_code", 500) or 500)
        retry = getattr(exc, "retry_after_s", None)
        headers = {"Retry-After": str(retry)} if status == 503 and retry else None
        if isinstance(exc, DatabaseUnavailable) and exc.code == DatabaseUnavailable.code:
            # Its message is written for users and names nothing; the cause is for the log.
            log.warning("database unavailable on %s %s: %s", request.method, request.path,
                        exc.cause or exc.message)
            return error_response(status, exc.message, headers=headers)
        if status >= 500:
            if exc.log_each_5xx:
                log.error("domain error %s: %s", type(exc).__name__, exc.message)
            if _spanish_engine_503(exc):
                return error_response(status, exc.message, headers=headers)
            return error_response(status, headers=headers)
        return error_response(status, exc.message)

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc: SQLAlchemyError) -> Response:
        unavailable = as_unavailable(exc, settings.db_retry_s)
        if unavailable is not None:
            return domain_error(unavailable)
        return unexpected(exc)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
        return error_response(500)
