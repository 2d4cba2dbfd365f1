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

# Flask pages → body bytes; the dashboard form of a large plant stays well below the default.
PAGE_BODY_LIMITS: Mapping[str, int] = {"/login": 16 * KIB}
PAGE_DEFAULT_BODY = 1024 * KIB
MAX_FORM_FIELDS = 4000
MAX_FORM_MEMORY = 512 * KIB

TOO_LARGE = "La solicitud es demasiado grande."


def body_limit(limits: Mapping[str, int], default: int, path: str) -> int:
    """The byte limit of one request path."""
    return limits.get(path, default)
