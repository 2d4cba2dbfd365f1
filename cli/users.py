"""`create-user`, `set-password`, `unlock-user`: operator user management.

Passwords come from an interactive prompt (asked twice) or, with --password-stdin, from the
first line of standard input; never from an argument, which would land in shell history and
in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from cli.base import fail, runtime
from identity.users import ROLES, create_user, set_password, unlock_user


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("create-user", help="create a user of a tenant (password prompted)")
    _who(p)
    p.add_argument("--role", required=True, choices=ROLES)
    p.set_defaults(handler=create_user_cmd)

    p = sub.add_parser("set-password", help="replace a user's password (password prompted)")
    _who(p)
    p.set_defaults(handler=set_password_cmd)

    p = sub.add_parser("unlock-user", help="lift a user's lockout now")
    p.add_argument("--tenant", required=True)
    p.add_argument("--username", required=True)
    p.set_defaults(handler=unlock_user_cmd)


def _who(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tenant", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of standard input")


def read_password(from_stdin: bool) -> str:
    """The new password from stdin or a double prompt; an empty one is refused."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            fail("no terminal for the password prompt: use --password-stdin")
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            fail("the two passwords differ")
    if not password:
        fail("empty password")
    return password


def create_user_cmd(args: argparse.Namespace) -> int:
    password = read_password(args.password_stdin)
    uid = create_user(runtime(args).db, tenant=args.tenant, username=args.username, password=password,
                      role=args.role, actor="operator")
    print(f"user {args.username} ({args.role}) created in {args.tenant} with id {uid}")
    return 0


def set_password_cmd(args: argparse.Namespace) -> int:
    password = read_password(args.password_stdin)
    set_password(runtime(args).db, tenant=args.tenant, username=args.username, password=password,
                 actor="operator")
    print(f"password of {args.username} in {args.tenant} changed; their sessions end at the next click")
    return 0


def unlock_user_cmd(args: argparse.Namespace) -> int:
    unlock_user(runtime(args).db, tenant=args.tenant, username=args.username, actor="operator")
    print(f"user {args.username} in {args.tenant} unlocked")
    return 0
