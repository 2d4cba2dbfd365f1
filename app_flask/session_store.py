"""Server-side session storage (files under var/, or Redis) that fails clearly.

When the store cannot be read or written (Redis down or frozen, a full or read-only disk), every
page answers a Spanish 503 "servicio no disponible" page that says what is wrong, with
Retry-After, instead of a 500 or a form that later fails as "La sesión expiró". Static files
and the liveness check need no session and are still served. The cause is logged once per
outage; the next request after the store works again is served normally, without a restart.

Redis calls give up after CAMET_REDIS_TIMEOUT_S; after a failure, Redis is left alone for
CAMET_REDIS_RETRY_S (those requests get the 503 at once, so a frozen Redis does not hold every
page-server thread). File writes go through a temporary file that is removed when the write
fails, so a full disk is left with no debris.
"""

from __future__ import annotations

import logging
import os
import struct
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any, TypeVar

from cachelib.file import FileSystemCache
from flask import Flask, Request, Response, current_app, request, session
from flask_session.base import ServerSideSession
from flask_session.cachelib import CacheLibSessionInterface
from flask_session.redis import RedisSessionInterface

from app_flask.errors import SESSION_RETRY_AFTER_S, SessionStoreDown
from app_flask.responses import error_response
from core.disk_errors import describe, disk_fault
from core.outage_log import OutageLog
from core.redis_link import REDIS_ERRORS, redis_client, redis_target
from core.settings import Settings

log = logging.getLogger(__name__)

# Endpoints that never need a session: they are served while the store is down.
NO_SESSION_ENDPOINTS = frozenset({"static", "health"})
PROBE_KEY = "camet-session-store-probe"

UNAVAILABLE = "Servicio no disponible: {cause}. Reintentá en unos minutos."
REDIS_DOWN = "el almacén de sesiones no responde"
DISK_CAUSES = {
    "full": "no hay espacio en disco para sesiones; avisá al administrador",
    "not_writable": "el disco de sesiones no admite escritura (solo lectura o sin permisos); "
                    "avisá al administrador",
    "other": "no se pueden guardar las sesiones en el disco; avisá al administrador",
}

T = TypeVar("T")


class _HttpsAware:
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def unavailable_response(down: SessionStoreDown) -> Response:
    """The Spanish 503 page (or HTMX partial) for a store outage."""
    return error_response(503, down.message, headers={"Retry-After": str(SESSION_RETRY_AFTER_S)})


def _into_unavailable(response: Response, down: SessionStoreDown) -> None:
    """Turn an already built response into the 503 page (a session write failed after the view)."""
    page = unavailable_response(down)
    response.direct_passthrough = False
    response.set_data(page.get_data())
    response.status_code = 503
    response.mimetype = page.mimetype
    for name in ("Location", "HX-Redirect", "HX-Refresh", "Content-Disposition"):
        response.headers.pop(name, None)
    response.headers["Retry-After"] = str(SESSION_RETRY_AFTER_S)
    response.headers["Cache-Control"] = "no-store"


class _GuardedStore:
    """Mixin over a Flask-Session interface: store failures become SessionStoreDown.

    A session whose store could not be read is marked `store_down`; `refuse_without_store`
    answers 503 for it, and nothing is written back for it."""

    store_errors: tuple[type[BaseException], ...] = ()
    retry_s = 0.0
    outage: OutageLog
    _retry_at = 0.0
    _last: str | None = None  # the page's message while an outage lasts

    def _down(self, exc: BaseException) -> SessionStoreDown:  # pragma: no cover - each store says
        raise NotImplementedError

    def _probe(self) -> None:  # pragma: no cover - each store says
        """One small write (or PING) that fails the way session writes fail."""
        raise NotImplementedError

    def still_down(self) -> SessionStoreDown | None:
        """During an outage, whether the store still fails (a probe, at most once per retry
        window); None when no outage is known. Requests are then refused before anything
        (CSRF, a login) could fail in a misleading way for lack of a session."""
        if self._last is None:
            return None
        try:
            self._guard(self._probe, write=True)
        except SessionStoreDown as down:
            return down
        return None

    def _guard(self, call: Callable[..., T], *args: Any, write: bool) -> T:  # noqa: ANN401
        if self._last is not None and time.monotonic() < self._retry_at:
            raise SessionStoreDown(self._last)
        try:
            result = call(*args)
        except self.store_errors as exc:
            down = self._down(exc)
            self._last, self._retry_at = down.message, time.monotonic() + self.retry_s
            raise down from None
        if write:  # a read may work while writes fail (a full disk): only a write ends the outage
            self._last = None
            self.outage.ok()
        return result

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        return self._guard(super()._retrieve_session_data, store_id, write=False)

    def _delete_session(self, store_id: str) -> None:
        self._guard(super()._delete_session, store_id, write=True)

    def _upsert_session(self, session_lifetime: timedelta, session: ServerSideSession, store_id: str) -> None:
        self._guard(super()._upsert_session, session_lifetime, session, store_id, write=True)

    def open_session(self, app: Flask, request: Request) -> ServerSideSession:
        try:
            return super().open_session(app, request)
        except SessionStoreDown as down:
            fresh = self.session_class(sid=self._generate_sid(self.sid_length), permanent=self.permanent)
            fresh.store_down = down
            return fresh

    def save_session(self, app: Flask, session: ServerSideSession, response: Response) -> None:
        if getattr(session, "store_down", None) is not None:
            return
        try:
            super().save_session(app, session, response)
        except SessionStoreDown as down:
            if request.endpoint not in NO_SESSION_ENDPOINTS:
                _into_unavailable(response, down)


class FileSessions(_GuardedStore, _HttpsAware, CacheLibSessionInterface):
    """Sessions as files under var/sessions."""

    store_errors = (OSError,)

    def __init__(self, app: Flask, *, directory: str, key_prefix: str) -> None:
        files = SessionFiles(directory, threshold=20_000, mode=0o600)
        super().__init__(app, client=files, key_prefix=key_prefix)
        self.directory = directory
        self.outage = OutageLog(log, f"sessions: {directory}")

    def _down(self, exc: BaseException) -> SessionStoreDown:
        assert isinstance(exc, OSError)
        self.outage.failed(f"cannot write session files: {describe(exc)}",
                           "pages answer 503 until the disk takes writes again")
        return SessionStoreDown(UNAVAILABLE.format(cause=DISK_CAUSES[disk_fault(exc)]))

    def _probe(self) -> None:
        self.cache.set(PROBE_KEY, {}, mgmt_element=True)
        self.cache.delete(PROBE_KEY, mgmt_element=True)


class RedisSessions(_GuardedStore, _HttpsAware, RedisSessionInterface):
    """Sessions in Redis, with short timeouts and a retry window after a failure."""

    store_errors = REDIS_ERRORS

    def __init__(self, app: Flask, *, url: str, timeout_s: float, retry_s: float, key_prefix: str) -> None:
        super().__init__(app, client=redis_client(url, timeout_s), key_prefix=key_prefix)
        self.retry_s = retry_s
        self.outage = OutageLog(log, f"sessions: Redis {redis_target(url)}")

    def _down(self, exc: BaseException) -> SessionStoreDown:
        self.outage.failed(f"does not answer ({type(exc).__name__})", "pages answer 503 until it does")
        return SessionStoreDown(UNAVAILABLE.format(cause=REDIS_DOWN))

    def _probe(self) -> None:
        self.client.ping()


class SessionFiles(FileSystemCache):
    """cachelib's file cache, except that failures are raised (not logged per request and
    ignored) and a failed write removes its temporary file."""

    def get(self, key: str) -> Any:  # noqa: ANN401 - a session dict
        try:
            with open(self._get_filename(key), "rb") as f:
                expires = struct.unpack("I", f.read(4))[0]
                if expires == 0 or expires >= time.time():
                    return self.serializer.load(f)
        except FileNotFoundError:
            return None
        except (EOFError, struct.error):  # a torn file is no session
            return None
        return None

    def set(self, key: str, value: Any, timeout: int | timedelta | None = None,  # noqa: ANN401
            mgmt_element: bool = False) -> bool:
        if mgmt_element:
            timeout = 0
        else:
            self._prune()
        expires = self._normalize_timeout(timeout)
        filename = self._get_filename(key)
        overwrite = os.path.isfile(filename)
        fd, tmp = tempfile.mkstemp(suffix=self._fs_transaction_suffix, dir=self._path)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(struct.pack("I", expires))
                self.serializer.dump(value, f)
            os.replace(tmp, filename)
            os.chmod(filename, self._mode)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        if not overwrite and not mgmt_element:
            self._update_count(delta=1)
        return True

    def delete(self, key: str, mgmt_element: bool = False) -> bool:
        try:
            os.remove(self._get_filename(key))
        except FileNotFoundError:
            return True
        if not mgmt_element:
            self._update_count(delta=-1)
        return True

    def _update_count(self, delta: int | None = None, value: int | None = None) -> None:
        try:
            super()._update_count(delta=delta, value=value)
        except OSError:
            pass  # the count only decides when to prune old files; a later write corrects it


def refuse_without_store() -> Response | None:
    """before_request: the 503 page when this request's session could not be read, or while
    the store is known to fail."""
    if request.endpoint in NO_SESSION_ENDPOINTS:
        return None
    down = getattr(session, "store_down", None) or current_app.session_interface.still_down()
    return None if down is None else unavailable_response(down)


def session_interface(app: Flask, settings: Settings, key_prefix: str) -> FileSessions | RedisSessions:
    """The session storage the settings choose."""
    if settings.session_backend == "redis":
        return RedisSessions(app, url=settings.redis_url, timeout_s=settings.redis_timeout_s,
                             retry_s=settings.redis_retry_s, key_prefix=key_prefix)
    return FileSessions(app, directory=str(settings.var_dir / "sessions"), key_prefix=key_prefix)


def init_app(app: Flask, settings: Settings, key_prefix: str) -> None:
    """Install the session storage, the 503 for requests without one, and its error page."""
    app.session_interface = session_interface(app, settings, key_prefix)
    app.before_request(refuse_without_store)
    app.register_error_handler(SessionStoreDown, unavailable_response)
