"""Request size limits shared by the Flask pages and the engine (checked before any parsing).

Bodies are bounded per route: the anonymous login and token routes take a few KiB, the
dashboard run a few hundred; everything else a modest default. Form field counts and the
ids in one filter are bounded too, so no request makes the server parse or validate an
unbounded amount of input. Integers from URLs and bodies stop at 2^53 - 1: inside the 64-bit
signed range both databases store, and the largest every JSON client reads exactly (JavaScript
numbers, and validators that compare through floats: at 2^63 - 1 the OpenAPI fuzz took
9223372036854775999 for a valid id).
"""

from __future__ import annotations

from collections.abc import Mapping

from core.settings import Settings

KIB = 1024
MAX_DB_INT = 2**53 - 1

# Engine routes (paths as served, below any mount prefix) → body bytes.
ENGINE_BODY_LIMITS: Mapping[str, int] = {
    "/api/v1/auth/token": 8 * KIB,
    "/api/v1/dashboard/run": 256 * KIB,
}
INGEST_PATH = "/api/v1/ingest/detections"  # bulk batches: its limit is CAMET_INGEST_MAX_BYTES
# Browser CSV uploads: limit CAMET_UPLOAD_MAX_BYTES; the engine streams these bodies to disk
# (never buffered by the edge guard) and the page route spools the file to disk likewise.
UPLOAD_API_PATH = "/api/v1/admin/uploads"
UPLOAD_PAGE_PATH = "/admin/importar"
ENGINE_DEFAULT_BODY = 64 * KIB
UPLOAD_FORM_OVERHEAD = 64 * KIB  # the upload page's form fields and multipart framing

# Flask pages → body bytes; the dashboard form of a large plant stays well below the default.
PAGE_BODY_LIMITS: Mapping[str, int] = {"/login": 16 * KIB}
PAGE_DEFAULT_BODY = 1024 * KIB
MAX_FORM_FIELDS = 4000
MAX_FORM_MEMORY = 512 * KIB

# JSON bodies and JSON form fields nest at most this deep (objects and arrays), checked before
# any parser recurses; the product's own documents (layouts, configs, runs) nest a few levels.
MAX_JSON_DEPTH = 32

TOO_LARGE = "La solicitud es demasiado grande."
BAD_LENGTH = "El encabezado Content-Length no es válido."


def body_limit(limits: Mapping[str, int], default: int, path: str) -> int:
    """The byte limit of one request path."""
    return limits.get(path, default)


def engine_body_limits(settings: Settings) -> dict[str, int]:
    """The engine's per-route limits with the configured ingestion and upload sizes."""
    return {**ENGINE_BODY_LIMITS, INGEST_PATH: settings.ingest_max_bytes,
            UPLOAD_API_PATH: settings.upload_max_bytes}


def page_body_limits(settings: Settings) -> dict[str, int]:
    """The pages' per-route limits with the configured upload size."""
    return {**PAGE_BODY_LIMITS, UPLOAD_PAGE_PATH: settings.upload_max_bytes + UPLOAD_FORM_OVERHEAD}


def largest_body(settings: Settings, *, pages: bool = True, engine: bool = True) -> int:
    """The largest body any route of the served apps accepts: what a server in front of them
    (waitress, Apache, nginx) may buffer before the app can refuse it by route."""
    sizes = [0]
    if pages:
        sizes += [PAGE_DEFAULT_BODY, *page_body_limits(settings).values()]
    if engine:
        sizes += [ENGINE_DEFAULT_BODY, *engine_body_limits(settings).values()]
    return max(sizes)


def declared_length(value: str | bytes | None) -> int | None:
    """A Content-Length value as bytes to expect; None when absent or empty (PEP 3333 allows a
    WSGI server to send an empty CONTENT_LENGTH, and wsgiref does on every GET).

    Raises ValueError for anything but decimal digits.
    """
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip(" \t")
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValueError("Content-Length is not a decimal number")
    return int(text)
