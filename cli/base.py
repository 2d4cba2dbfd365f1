"""Shared helpers for CLI commands: one clear line on error, never a traceback."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from core.errors import CametError
from core.runtime import Runtime, build_runtime
from core.settings import get_settings


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit non-zero."""
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(code)


def report(exc: CametError) -> NoReturn:
    """Print a domain error (and its details, one per line) and exit non-zero; an unreachable
    database adds its cause (the operator runs commands: the URL is theirs to see)."""
    cause = getattr(exc, "cause", None)
    lines = [f"{exc.message} ({cause})" if cause else exc.message]
    if isinstance(exc.details, list):
        lines += [f"  {d}" for d in exc.details[:50]]
        if len(exc.details) > 50:
            lines.append(f"  ... and {len(exc.details) - 50} more")
    fail("\n".join(lines))


def runtime(args: argparse.Namespace) -> Runtime:
    """The runtime handed to `main` (tests), else one for this command from the environment.

    Commands keep glibc's allocator as it is: the server tuning (core.runtime.default_runtime)
    costs bulk work such as seed-demo about 13 % and a command gives all its memory back at exit.
    """
    given = getattr(args, "runtime", None)
    return given if given is not None else build_runtime(get_settings())
