"""Error answers of the page server: a page, or a partial for HTMX requests, always in Spanish.

Shared by the security layer and the login decorators, and importing neither of them.
"""

from __future__ import annotations

import logging

from flask import Response, render_template, request

log = logging.getLogger(__name__)

MESSAGES = {
    400: "La solicitud no es válida.",
    401: "Tenés que iniciar sesión.",
    403: "No tenés permiso para ver esto.",
    404: "La página no existe.",
    405: "Método no permitido.",
    413: "La solicitud es demasiado grande.",
    422: "Los datos enviados no son válidos.",
    429: "Demasiados intentos. Esperá un momento y volvé a intentar.",
    500: "Ocurrió un error interno. Ya quedó registrado.",
    503: "El servicio no está disponible en este momento.",
}


def is_htmx() -> bool:
    """True for requests htmx sends (its HX-Request header)."""
    return request.headers.get("HX-Request") == "true"


def error_response(status: int, message: str | None = None, *, headers: dict | None = None) -> Response:
    """A page (or an HTMX partial) for an error status, in Spanish, without internals."""
    text = message or MESSAGES.get(status, MESSAGES[500])
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    try:
        body = render_template(template, status=status, message=text)
    except Exception:  # noqa: BLE001 - the error page must never fail itself
        log.exception("error template failed")
        body = f"<!doctype html><title>Error {status}</title><p>{MESSAGES.get(status, MESSAGES[500])}</p>"
    response = Response(body, status=status, mimetype="text/html")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
