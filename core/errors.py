"""The domain exception hierarchy: every error the product raises maps to one HTTP status.

    CametError (500)
    ├── SettingsError                  bad configuration, found at start-up
    ├── DatabaseConfigError (400)      a DB URL that cannot be used
    ├── DatabaseUnavailable (503)      the database does not answer (Retry-After; the cause
    │   │                              goes to the log and the CLI, never to a client)
    │   └── DatabaseCircuitOpen        core/db_circuit.py: not even tried, the server failed
    │                                  moments ago (also a PyMySQL OperationalError, so it stays
    │                                  beside the driver code)
    ├── NotFound (404)                 unknown tenant, line, layout...
    ├── ValidationFailed (422)         user input rejected; carries per-field messages
    │   └── Conflict (409)             valid input that clashes with the current state (last admin,
    │       │                          oneself, a duplicate name)
    │       └── JobBusy                the job already runs for that tenant
    ├── ImportRejected (422)           a CSV/YAML file with bad rows; nothing was written
    ├── TooManyRows (413)              a dashboard query that must be narrowed
    ├── PayloadTooLarge (413)          an ingestion batch or an uploaded file over its limits
    ├── InsufficientStorage (507)      an upload the disk cannot hold (full, read-only)
    ├── QueryTimeout (504)             a query cancelled for running too long
    ├── Overloaded (503)               too many dashboard runs at once; retry after `retry_after_s`
    ├── AuthError (401) / Forbidden (403)
    ├── RateLimited (429)              a rate limit is spent (`retry_after_s`)
    ├── RegistryError                  unknown or misconfigured class name in a DB row
    │   └── InvalidDefinition          also a ValueError: a filter row, column set, reader
    │                                  choice or query that cannot be built
    ├── NoCurrentShift (422)           also a LookupError: no shift covers the current time
    ├── WidgetDataError                data a widget cannot render
    ├── ExternalAPIError (502)         a failed external call, shown on the widget's card
    ├── CallFailed (502)               inside the broker: one failed attempt
    ├── SsrfRefused (502)              inside the broker: a non-public destination
    │                                  (the broker turns both into ExternalAPIError)
    ├── MigrationError                 a schema step that cannot run on the data
    └── RunLost                        a job run lost its lock; its chunk rolls back

The page app keeps its own small tree in app_flask/errors.py (EngineUnavailable, EngineError,
SessionStoreDown): errors of talking to the engine and of the page sessions.

Web layers translate these (FastAPI: one JSON shape, plus a Retry-After header for any error
that sets `retry_after_s`; Flask: a page or a partial); 5xx ones are logged on both sides, and
none carries a stack trace or SQL to the user. Inside pydantic validators plain ValueError is the
protocol; the edges turn it into ValidationFailed or SettingsError.
"""

from __future__ import annotations

from datetime import datetime


class CametError(Exception):
    """Base of every error the product raises on purpose."""

    status_code = 500
    code = "error"
    # Seconds after which a retry may succeed; the engine sends it as the Retry-After header.
    retry_after_s: int | None = None
    # Web layers log each 5xx answer, unless the raiser logs the cause itself once per outage
    # (a full disk would otherwise fill the log with one line per refused request).
    log_each_5xx = True

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
    """The database does not answer. `message` is what a client sees (no URL, host, user or
    file); `cause` is the operator's detail, for the log and the command line only."""

    status_code = 503
    code = "database_unavailable"
    retry_after_s: int | None = 5

    def __init__(self, message: str, *, retry_after_s: int | None = None, cause: str | None = None,
                 details: object = None) -> None:
        super().__init__(message, details=details)
        if retry_after_s is not None:
            self.retry_after_s = retry_after_s
        self.cause = cause


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


class PayloadTooLarge(CametError):
    """A request body over its route's limits, found while reading it (ingest batches, uploads)."""

    status_code = 413
    code = "too_large"  # the same code the edge guard answers before reading the body


class InsufficientStorage(CametError):
    """A file the server cannot store: the disk is full or refuses writes (logged once per
    outage by the raiser)."""

    status_code = 507
    code = "insufficient_storage"
    log_each_5xx = False


class QueryTimeout(CametError):
    status_code = 504
    code = "query_timeout"


class Overloaded(CametError):
    status_code = 503
    code = "overloaded"

    def __init__(self, message: str, *, retry_after_s: int, details: object = None) -> None:
        super().__init__(message, details=details)
        self.retry_after_s = retry_after_s


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


class InvalidDefinition(RegistryError, ValueError):
    """A definition the code cannot use; a ValueError too, for callers that validate."""

    code = "invalid_definition"


class RunLost(CametError):
    """The run no longer holds its lock: it must stop before committing anything more."""

    code = "run_lost"


class RateLimited(CametError):
    """Too many requests for one key; `retry_after_s` seconds until the window frees a slot."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after_s = retry_after


class JobBusy(Conflict):
    """Another process runs this job for this tenant right now."""

    code = "job_busy"

    def __init__(self, job: str, slug: str, holder: str, until: datetime) -> None:
        super().__init__(f"«{job}» ya se está ejecutando para «{slug}»; volvé a intentarlo cuando termine.",
                         details={"job": job, "tenant": slug, "holder": holder})
        self.job, self.slug, self.holder, self.until = job, slug, holder, until

    def english(self) -> str:
        """The same for the command line and the logs."""
        return (f"{self.job} is already running for tenant {self.slug} (holder {self.holder}, "
                f"lease until {self.until:%Y-%m-%d %H:%M:%S} UTC); try again once it ends")


class NoCurrentShift(CametError, LookupError):
    """No shift covers the current time of day."""

    status_code = 422
    code = "no_current_shift"

    def __init__(self, message: str = "ningún turno cubre la hora actual") -> None:
        super().__init__(message)


class SsrfRefused(CametError):
    """The destination is not a public address; the message is safe to show."""

    status_code = 502
    code = "external_refused"


class CallFailed(CametError):
    """One failed attempt; `message` is safe for the widget card (no URL, no secret)."""

    status_code = 502
    code = "external_call_failed"

    def __init__(self, message: str, *, retryable: bool = False, counts: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.counts = counts


class ExternalAPIError(CametError):
    """A failed external call; the message is safe to show on the widget's card."""

    status_code = 502
    code = "external_api"

    def __init__(self, api_id: str, message: str) -> None:
        super().__init__(f"{api_id}: {message}")
        self.api_id = api_id
        self.message = message


class MigrationError(CametError):
    """A step that cannot run on the data found (nothing of that step is written)."""

    code = "migration"


class WidgetDataError(CametError):
    """The data handed to a widget cannot be rendered (e.g. a malformed API payload)."""
