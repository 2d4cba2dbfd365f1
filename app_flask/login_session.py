"""Who is logged in: the server-side session, its timeouts, and decorators for views.

The session (Flask-Session: only an opaque id in the cookie) holds the user id, tenant and
timestamps. Each request re-checks the user row once, so deleting, deactivating or locking a
user, or changing their password elsewhere, ends their sessions at the next click.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, g, redirect, request, session, url_for

from app_flask.responses import error_response, is_htmx
from core.errors import AuthError
from core.runtime import Runtime
from identity.engine_tokens import Principal, issue_token
from identity.users import User, active_user

# The logged-in user of a request is the same principal the engine token carries.
Identity = Principal


def runtime() -> Runtime:
    """The runtime this Flask app was built with."""
    return current_app.extensions["camet_runtime"]


def _stamp(user: User) -> str:
    """Changes with every credential change (password, role, deactivation) and with the
    password hash, ending the sessions opened before it."""
    return f"{user.credential_version}:{user.password_tag}"


def start_session(user: User) -> None:
    """Log `user` in: fresh contents and a new session id (no fixation)."""
    session.clear()
    now = int(time.time())
    session.update(uid=user.id, tenant=user.tenant, username=user.username,
                   login_at=now, seen_at=now, pwd_at=_stamp(user))
    session.permanent = True
    current_app.session_interface.regenerate(session)
    g.camet_identity = Identity(user.id, user.username, user.tenant, user.role, user.credential_version)


def end_session() -> None:
    """Log out: an emptied session is deleted from storage and its cookie expired."""
    session.clear()
    g.camet_identity = None


def _load() -> Identity | None:
    uid = session.get("uid")
    if not isinstance(uid, int):
        return None
    settings = runtime().settings
    now = int(time.time())
    too_old = now - int(session.get("login_at", 0)) > settings.session_absolute_hours * 3600
    idle = now - int(session.get("seen_at", 0)) > settings.session_idle_minutes * 60
    tenant = str(session.get("tenant", ""))
    user = None if too_old or idle else active_user(runtime().db, user_id=uid, tenant=tenant)
    if user is None or _stamp(user) != session.get("pwd_at"):
        end_session()
        return None
    session["seen_at"] = now
    return Identity(user.id, user.username, user.tenant, user.role, user.credential_version)


def current_identity() -> Identity | None:
    """The logged-in user, or None (checked against the database once per request)."""
    if "camet_identity" not in g:
        g.camet_identity = _load()
    return g.camet_identity


def engine_token() -> str:
    """A short-lived JWT for the current user, for calls to the engine."""
    ident = current_identity()
    if ident is None:
        raise AuthError("engine_token() needs a logged-in user")
    return issue_token(runtime().settings, ident)


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login (no open redirect, no header
    injection): control characters, backslashes and `//` anywhere send to the home page."""
    if not target or len(target) > 2048 or not target.startswith("/") or "//" in target \
            or "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _to_login() -> Response:
    login = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if is_htmx():
        response = Response(status=401)
        response.headers["HX-Redirect"] = login
        return response
    return redirect(login)


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Redirect to the login page (HX-Redirect for htmx) unless someone is logged in."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_identity() is None:
            return _to_login()
        return view(*args, **kwargs)

    return wrapper


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Like login_required, and 403 unless the user is an admin of its tenant."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ident = current_identity()
        if ident is None:
            return _to_login()
        if not ident.is_admin:
            return error_response(403)
        return view(*args, **kwargs)

    return wrapper
