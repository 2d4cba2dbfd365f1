"""Blueprint "auth": login, logout, own password change and the tenant's audit log."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

from app_flask.engine_client import call_engine
from app_flask.errors import EngineError
from app_flask.login_session import (
    admin_required,
    current_identity,
    end_session,
    login_required,
    runtime,
    safe_next,
    start_session,
)
from app_flask.request_guards import limiter
from core.errors import AuthError, ValidationFailed
from core.tenant_slugs import normalize_tenant_slug
from core.usernames import normalize_username
from identity.audit import record
from identity.passwords import validate_password
from identity.ratelimit import LOGIN_PER_IP, LOGIN_PER_USER
from identity.request_limits import MAX_DB_INT
from identity.users import authenticate, change_password, tenant_id, validate_username

ROLE_CHOICES = (
    ("viewer", "viewer (ve tableros)"),
    ("supervisor", "supervisor (también da motivos a paradas)"),
    ("admin", "admin (también configura)"),
)

bp = Blueprint("auth", __name__)


def _login_user_key() -> str:
    tenant = normalize_tenant_slug(request.form.get("tenant") or "")
    username = normalize_username(request.form.get("username") or "")[:64]
    return f"login:{tenant}:{username}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_PER_IP, methods=["POST"])
@limiter.limit(LOGIN_PER_USER, methods=["POST"], key_func=_login_user_key)
def login() -> Response | str:
    """The login form; on success a new session and a redirect to the dashboard."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_identity() is not None:
            return redirect(next_url)
        notice = "Tu contraseña cambió: ingresá de nuevo." if request.args.get("changed") else None
        return render_template("login.html", next=next_url, notice=notice)
    form = request.form
    try:
        user = authenticate(runtime().db, runtime().settings, tenant=form.get("tenant", ""),
                            username=form.get("username", ""), password=form.get("password", ""),
                            ip=request.remote_addr)
    except AuthError as exc:
        return Response(render_template("login.html", next=next_url, error=exc.message,
                                        tenant=form.get("tenant", ""), username=form.get("username", "")),
                        status=401)
    start_session(user)
    return redirect(next_url)


@bp.post("/logout")
def logout() -> Response:
    """End the session server-side and expire the cookie."""
    ident = current_identity()
    if ident is not None:
        with runtime().db.central() as conn:
            record(conn, action="logout", tenant_id=tenant_id(conn, ident.tenant), user_id=ident.user_id,
                   username=ident.username, ip=request.remote_addr)
    end_session()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> Response | str:
    """Change the own password; success ends every session of the user."""
    if request.method == "GET":
        return render_template("account_password.html")
    ident = current_identity()
    assert ident is not None
    form = request.form
    if form.get("new", "") != form.get("confirm", ""):
        return Response(render_template("account_password.html",
                                        error="La nueva contraseña y su confirmación no coinciden."),
                        status=422)
    try:
        change_password(runtime().db, tenant=ident.tenant, user_id=ident.user_id,
                        current=form.get("current", ""), new=form.get("new", ""), ip=request.remote_addr)
    except ValidationFailed as exc:
        return Response(render_template("account_password.html", error=exc.message), status=422)
    end_session()
    return redirect(url_for("auth.login", changed=1))


@bp.get("/account/audit")
@admin_required
def audit() -> str:
    """The tenant's audit log, read through the engine like every other tenant data."""
    before = request.args.get("before", type=int)
    in_range = before is not None and 1 <= before <= MAX_DB_INT
    search = request.args.get("q", "").strip()[:100]
    params = {"limit": 100, **({"before": before} if in_range else {}), **({"q": search} if search else {})}
    data = call_engine("GET", "/api/v1/audit", params=params)
    return render_template("account_audit.html", events=data.get("events", []), search=search)


def _users_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    users = call_engine("GET", "/api/v1/users")
    return render_template("account_users.html", users=users, error=error, roles=ROLE_CHOICES), status


@bp.get("/account/users")
@admin_required
def users() -> tuple[str, int]:
    """The tenant's users, with create and unlock actions (through the engine API)."""
    return _users_page()


@bp.post("/account/users")
@admin_required
def create_user() -> Response | tuple[str, int]:
    """Add a user to the admin's own tenant."""
    form = request.form
    body = {"username": form.get("username", ""), "password": form.get("password", ""),
            "role": form.get("role", "viewer")}
    try:
        validate_username(body["username"])
        validate_password(body["password"])
    except ValidationFailed as exc:  # the engine checks again; here for a Spanish message
        return _users_page(exc.message, 422)
    try:
        call_engine("POST", "/api/v1/users", json=body)
    except EngineError as exc:
        if exc.status_code not in (409, 422):
            raise
        return _users_page(exc.message, 422)
    return redirect(url_for("auth.users"))


@bp.post("/account/users/<int(max=9223372036854775807):user_id>/unlock")
@admin_required
def unlock(user_id: int) -> Response:
    """Lift a lockout of one user of the admin's own tenant (404 for anyone else's)."""
    call_engine("POST", f"/api/v1/users/{user_id}/unlock")
    return redirect(url_for("auth.users"))


def _user_change(method: str, path: str, body: dict | None = None) -> Response | tuple[str, int]:
    """Send one user change to the engine; its refusal (last admin, oneself) is shown on the page."""
    try:
        call_engine(method, path, json=body)
    except EngineError as exc:
        if exc.status_code not in (404, 409, 422):
            raise
        return _users_page(exc.message, exc.status_code)
    return redirect(url_for("auth.users"))


@bp.post("/account/users/<int:user_id>/rol")
@admin_required
def set_role(user_id: int) -> Response | tuple[str, int]:
    """Make a user viewer, supervisor or admin (the engine keeps the tenant's last admin)."""
    return _user_change("PATCH", f"/api/v1/users/{user_id}", {"role": request.form.get("role", "")})


@bp.post("/account/users/<int:user_id>/activo")
@admin_required
def set_active(user_id: int) -> Response | tuple[str, int]:
    """Deactivate (`activo=0`) or reactivate a user; a deactivated user's sessions end."""
    return _user_change("PATCH", f"/api/v1/users/{user_id}", {"active": request.form.get("activo") == "1"})


@bp.post("/account/users/<int:user_id>/clave")
@admin_required
def reset_password(user_id: int) -> Response | tuple[str, int]:
    """Set a new password for a user (they log in with it; their sessions end)."""
    return _user_change("PATCH", f"/api/v1/users/{user_id}", {"password": request.form.get("password", "")})


@bp.post("/account/users/<int:user_id>/borrar")
@admin_required
def remove_user(user_id: int) -> Response | tuple[str, int]:
    """Delete a user of the admin's own tenant."""
    return _user_change("DELETE", f"/api/v1/users/{user_id}")
