"""`create-tenant` and `load-metadata`: register a plant and describe it from YAML."""

from __future__ import annotations

import argparse

from cli.base import fail, runtime
from cli.defaults import install_tenant_defaults
from core import migrations
from core.db import redact
from core.tenants import create_tenant, get_tenant
from ingest.plant_metadata import load_plant_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("create-tenant", help="create a tenant and initialise its database")
    p.add_argument("slug", help="short id: lower-case letters, digits, underscore")
    p.add_argument("--name", required=True, help="display name")
    p.add_argument("--db-url", default=None, help="tenant DB URL (default: next to the central DB)")
    p.add_argument("--timezone", default=None, help="IANA timezone of the plant")
    p.set_defaults(handler=create_tenant_cmd)

    p = sub.add_parser("load-metadata", help="create/update areas, lines, products, shifts from YAML")
    p.add_argument("--tenant", required=True)
    p.add_argument("file", help="plant YAML file (see README)")
    p.set_defaults(handler=load_metadata_cmd)


def create_tenant_cmd(args: argparse.Namespace) -> int:
    rt = runtime(args)
    migrations.upgrade_central(rt.db.central_engine)
    tenant = create_tenant(rt.db, args.slug, name=args.name, db_url=args.db_url, timezone=args.timezone)
    written = install_tenant_defaults(rt, tenant.slug, replace=False)
    print(f"tenant {tenant.slug} ready: {redact(tenant.db_url)} ({tenant.timezone}); default dashboard: "
          f"{written['filters']} filters, {written['widgets']} widgets")
    return 0


def load_metadata_cmd(args: argparse.Namespace) -> int:
    rt = runtime(args)
    if get_tenant(rt.db, args.tenant) is None:
        fail(f"unknown tenant {args.tenant!r} (create it with `manage.py create-tenant`)")
    counts = load_plant_file(rt.db, args.tenant, args.file, today=rt.clock.now_utc().date())
    print("loaded " + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + f" into {args.tenant}")
    return 0
