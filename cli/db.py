"""`init-db`: create or upgrade the central schema and every registered tenant's schema."""

from __future__ import annotations

import argparse

from cli.base import runtime
from core import migrations
from core.db import redact
from core.tenants import list_tenants


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init-db", help="create/upgrade the central and tenant schemas (idempotent)")
    p.set_defaults(handler=init_db)


def init_db(args: argparse.Namespace) -> int:
    """Apply pending migrations; running it twice changes nothing the second time."""
    rt = runtime(args)
    applied = migrations.upgrade_central(rt.db.central_engine)
    print(f"central {redact(str(rt.db.central_url.render_as_string(hide_password=False)))}: "
          + (f"applied versions {applied}" if applied else "up to date"))
    for tenant in list_tenants(rt.db):
        done = migrations.upgrade_tenant(rt.db.engine_for(tenant.db_url))
        print(f"tenant {tenant.slug}: " + (f"applied versions {done}" if done else "up to date"))
    return 0
