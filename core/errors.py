"""The domain exception hierarchy: every error a user can cause maps to one HTTP status.

    CametError (500)
    ├── SettingsError            bad configuration, found at start-up
    ├── DatabaseConfigError      a DB URL that cannot be used
    ├── DatabaseUnavailable      the database does not answer (503)
    ├── NotFound (404)           unknown tenant, line, layout...
    ├── ValidationFailed (422)   user input rejected; carries per-field messages
    │   └── Conflict (409)       valid input that clashes with the current state
    ├── ImportRejected (422)     a CSV/YAML file with bad rows; nothing was written
    ├── TooManyRows (413)        a dashboard query that must be narrowed
    ├── QueryTimeout (504)       a query cancelled for running too long
    ├── AuthError (401) / Forbidden (403)
    └── RegistryError            unknown or misconfigured class name in a DB row

Web layers translate these; none of them carries a stack trace or SQL to the user.
"""

from __future__ import annotations


class CametError(Exception):
    """Base of every error the product raises on purpose."""

    status_code = 500
    code = "error"

    def __init__(self, message: str, *, details: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, object]:
        """The JSON error body shared by every engine route."""
        body: dict[str, object] = {"error": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class SettingsError(CametError):
    code = "settings"


class DatabaseConfigError(CametError):
    status_code = 400
    code = "database_config"


class DatabaseUnavailable(CametError):
    status_code = 503
    code = "database_unavailable"


class NotFound(CametError):
    status_code = 404
    code = "not_found"


class ValidationFailed(CametError):
    status_code = 422
    code = "validation"


class ImportRejected(CametError):
    status_code = 422
    code = "import_rejected"


class TooManyRows(CametError):
    status_code = 413
    code = "too_many_rows"


class QueryTimeout(CametError):
    status_code = 504
    code = "query_timeout"


class AuthError(CametError):
    status_code = 401
    code = "unauthorized"


class Conflict(ValidationFailed):
    """Well-formed input that clashes with the current state (a duplicate name, oneself)."""

    status_code = 409
    code = "conflict"


class Forbidden(CametError):
    status_code = 403
    code = "forbidden"


class RegistryError(CametError):
    code = "registry"
