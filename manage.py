#!/usr/bin/env python3
"""Operator commands: init-db, create-tenant, load-metadata, import-detections, seed-demo, serve...

Every command validates its input and ends with one clear line and a non-zero exit on failure,
never a traceback. `python manage.py --help` lists them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from sqlalchemy.exc import SQLAlchemyError

from cli import COMMAND_MODULES
from cli.base import fail, report
from core.errors import CametError
from core.runtime import Runtime
from core.tenant_slugs import normalize_tenant_slug


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="manage.py", description="Camet Analytics operator commands")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None, runtime: Runtime | None = None) -> int:
    """Run one command; `runtime` (tests) replaces the one built from the environment."""
    args = build_parser().parse_args(argv)
    args.runtime = runtime
    if getattr(args, "tenant", None):
        args.tenant = normalize_tenant_slug(args.tenant)  # `--tenant ACME` is tenant acme
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except CametError as exc:
        report(exc)
    except SQLAlchemyError as exc:
        fail(f"database error: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}")
    except KeyboardInterrupt:
        fail("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
