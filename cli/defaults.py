"""`install-defaults`: give a tenant the starting filters, widgets and dashboard again."""

from __future__ import annotations

import argparse

from cli.base import fail, runtime
from core.runtime import Runtime
from core.tenants import get_tenant
from filters.defaults import DEFAULT_FILTER_ROWS
from ingest.dashboard_defaults import DashboardDefaults, install_defaults
from widgets.defaults import DEFAULT_LAYOUT, DEFAULT_WIDGET_ROWS

TENANT_DEFAULTS = DashboardDefaults(DEFAULT_FILTER_ROWS, DEFAULT_WIDGET_ROWS, DEFAULT_LAYOUT)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("install-defaults", help="restore a tenant's default filters, widgets and dashboard")
    p.add_argument("--tenant", required=True)
    p.add_argument("--keep", action="store_true",
                   help="only fill what is empty (default: replace the tenant's rows with the defaults)")
    p.set_defaults(handler=install_defaults_cmd)


def install_tenant_defaults(rt: Runtime, slug: str, *, replace: bool) -> dict[str, int]:
    """Install the starting dashboard into one tenant (one transaction)."""
    with rt.db.tenant(slug) as conn:
        return install_defaults(conn, TENANT_DEFAULTS, replace=replace)


def install_defaults_cmd(args: argparse.Namespace) -> int:
    rt = runtime(args)
    if get_tenant(rt.db, args.tenant) is None:
        fail(f"unknown tenant {args.tenant!r}")
    written = install_tenant_defaults(rt, args.tenant, replace=not args.keep)
    print(f"{args.tenant}: {written['filters']} filters, {written['widgets']} widgets, "
          f"{written['layouts']} dashboard written")
    return 0
