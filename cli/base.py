"""Shared helpers for CLI commands: one clear line on error, never a traceback."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from core.errors import CametError
from core.runtime import Runtime, default_runtime


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit non-zero."""
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(code)


def report(exc: CametError) -> NoReturn:
    """Print a domain error (and its details, one per line) and exit non-zero."""
    lines = [exc.message]
    if isinstance(exc.details, list):
        lines += [f"  {d}" for d in exc.details[:50]]
        if len(exc.details) > 50:
            lines.append(f"  ... and {len(exc.details) - 50} more")
    fail("\n".join(lines))


def runtime(args: argparse.Namespace) -> Runtime:
    """The runtime handed to `main` (tests), else one for this command from the environment."""
    given = getattr(args, "runtime", None)
    return given if given is not None else default_runtime()
