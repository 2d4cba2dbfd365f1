"""Redis clients that fail fast, and a probe for health checks.

A Redis that is down refuses at once, but a frozen one (a stopped process, a hung host) accepts
the connection and answers nothing: without a read timeout every call would wait forever. Every
client the web processes use for sessions and rate limits therefore gets connect and read
timeouts (CAMET_REDIS_TIMEOUT_S) and no retries, so a failure costs one timeout and the caller
degrades. Log lines name a Redis by host, port and database only, never by its URL (it may
hold a password).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import redis

from core.settings import Settings

# What a Redis call raises when the server is down, frozen or refuses: the caller degrades.
REDIS_ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, OSError)


def client_options(timeout_s: float) -> dict[str, Any]:
    """Keyword arguments of redis.Redis for calls that give up after `timeout_s` seconds."""
    return {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s, "retry": None,
            "health_check_interval": 0}


def redis_client(url: str, timeout_s: float) -> redis.Redis:
    """A client on `url` whose every call fails within about `timeout_s` seconds."""
    return redis.Redis.from_url(url, **client_options(timeout_s))


def redis_target(url: str) -> str:
    """`host:port/db` of a Redis URL, for log lines (no user name or password)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    host = parts.hostname or "localhost"
    db = parts.path.lstrip("/") or "0"
    return f"{host}:{parts.port or 6379}/{db}"


def ping_redis(url: str, timeout_s: float) -> str | None:
    """None when the Redis at `url` answers PING within `timeout_s`; else why not, in a few
    words without the URL ("timeout", "connection refused", ...). For health checks."""
    client = redis_client(url, timeout_s)
    try:
        client.ping()
    except redis.TimeoutError:
        return "timeout"
    except redis.AuthenticationError:
        return "authentication failed"
    except REDIS_ERRORS as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ConnectionRefusedError) or "refused" in str(exc).lower():
            return "connection refused"
        return type(exc).__name__
    finally:
        client.close()
    return None


def redis_dependencies(settings: Settings) -> dict[str, str]:
    """The Redis URLs this installation uses, by role ("sessions", "rate_limits",
    "result_cache", "broker_cache"): what a per-dependency health check should ping."""
    uses = {
        "sessions": settings.redis_url if settings.session_backend == "redis" else "",
        "rate_limits": settings.ratelimit_storage_uri,
        "result_cache": settings.result_cache_url,
        "broker_cache": settings.broker_cache_url,
    }
    return {role: url for role, url in uses.items() if url.split("://", 1)[0] in ("redis", "rediss", "unix")}
