"""`create-ingest-key`, `revoke-ingest-key`, `list-ingest-keys`: API keys of line gateways."""

from __future__ import annotations

import argparse

from cli.base import fail, runtime
from core.runtime import Runtime
from core.tenants import get_tenant
from identity.ingest_keys import create_key, find_key, list_keys, revoke_key


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("create-ingest-key", help="a gateway API key for some lines (printed once)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--lines", required=True, help="comma-separated line codes, e.g. L1,L2")
    p.add_argument("--name", required=True, help="the gateway's name, unique in the tenant")
    p.set_defaults(handler=create_cmd)

    p = sub.add_parser("revoke-ingest-key", help="revoke a gateway API key for good")
    p.add_argument("--tenant", required=True)
    p.add_argument("--name", required=True)
    p.set_defaults(handler=revoke_cmd)

    p = sub.add_parser("list-ingest-keys", help="a tenant's gateway keys, last use and counters")
    p.add_argument("--tenant", required=True)
    p.set_defaults(handler=list_cmd)


def _tenant(rt: Runtime, slug: str) -> None:
    if get_tenant(rt.db, slug) is None:
        fail(f"unknown tenant {slug!r}")


def create_cmd(args: argparse.Namespace) -> int:
    """Print the new key on its own line (the only time it is shown)."""
    rt = runtime(args)
    _tenant(rt, args.tenant)
    known = set(rt.meta.get(args.tenant).lines_by_code)
    record, key = create_key(rt.db, rt.settings, tenant=args.tenant, name=args.name,
                             lines=args.lines.split(","), known_lines=known, actor="manage.py")
    print(key)
    print(f"key {record.name!r} (id {record.id}) for lines {', '.join(record.line_codes)} of "
          f"{args.tenant!r}: store it now, it is not shown again")
    return 0


def revoke_cmd(args: argparse.Namespace) -> int:
    rt = runtime(args)
    _tenant(rt, args.tenant)
    key = find_key(rt.db, tenant=args.tenant, name=args.name)
    revoke_key(rt.db, tenant=args.tenant, key_id=key.id, actor="manage.py")
    print(f"key {key.name!r} revoked")
    return 0


def list_cmd(args: argparse.Namespace) -> int:
    rt = runtime(args)
    _tenant(rt, args.tenant)
    keys = list_keys(rt.db, tenant=args.tenant)
    if not keys:
        print("no ingest keys")
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
        used = f"{k.last_used_at:%Y-%m-%d %H:%M:%S}" if k.last_used_at else "never"
        print(f"{k.id:>4}  {k.name:<20} {k.prefix}…  lines {','.join(k.line_codes):<12} {state:<24} "
              f"last used {used} UTC, {k.batches:,} batches, {k.rows_inserted:,} rows")
    return 0
