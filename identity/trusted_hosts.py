"""The trusted-Host check shared by the pages and the engine, so both apps answer the same names.

A Host header and a configured name are compared in one canonical form: lower case, port
dropped, IPv6 literals without brackets and compressed (`[::1]:8000` and `[0:0::1]` are `::1`),
international names IDNA-encoded. A configured name with a leading dot also matches its
subdomains. (Werkzeug's own check compares case-sensitively and cuts a configured `[::1]` at
its first colon, so the pages refused `LOCALHOST` and `[::1]` while the engine took the first.)

A refusal is logged as one line: an anonymous client may send any Host header, so it must
not cost the log more than that.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable

log = logging.getLogger(__name__)

_HOST = re.compile(r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9.-]+))(?::(?P<port>[0-9]{1,5}))?")
_SHOWN = 80  # characters of a refused Host header that reach the log


def canonical_host(value: str) -> str | None:
    """A Host header (`name`, `name:port`, `[v6]`, `[v6]:port`) as compared; None when malformed."""
    match = _HOST.fullmatch(value.strip().lower())
    if match is None or (match["port"] is not None and not 0 < int(match["port"]) <= 65535):
        return None
    if match["v6"] is not None:
        try:
            return str(ipaddress.IPv6Address(match["v6"]))
        except ValueError:
            return None
    return match["name"]


def _canonical_name(entry: str) -> tuple[str, bool] | None:
    """(name, subdomains too) of one configured name; None when it can never match."""
    entry = entry.strip()
    suffix = entry.startswith(".")
    entry = entry.removeprefix(".")
    if entry.count(":") > 1 and not entry.startswith("["):  # a bare IPv6 literal, e.g. from a URL
        try:
            return str(ipaddress.IPv6Address(entry)), False
        except ValueError:
            return None
    try:
        entry = entry.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    name = canonical_host(entry)
    return (name, suffix) if name else None


def host_is_trusted(host: str | None, trusted: Iterable[str]) -> bool:
    """Whether a request's Host header names one of the `trusted` names (none: nothing is)."""
    name = canonical_host(host or "")
    if name is None:
        return False
    for entry in trusted:
        ref = _canonical_name(entry)
        if ref is not None and (name == ref[0] or (ref[1] and name.endswith("." + ref[0]))):
            return True
    return False


def log_refused_host(host: str | None, peer: str | None) -> None:
    """One log line for a request refused for its Host header (never a traceback)."""
    shown = (host or "")[:_SHOWN]
    log.warning("refused untrusted Host header %r from %s", shown, peer or "?")
