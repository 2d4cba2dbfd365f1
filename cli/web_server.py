"""`web-server-limits`: the request-body cap for the web server in front of Passenger.

Under Passenger the web server (Apache or LiteSpeed on cPanel, or nginx) reads a whole request
body before the app can look at it, and the app refuses by route only then (a 16 KiB login, a
64 KiB default, the upload pages' CAMET_UPLOAD_MAX_BYTES). Capping the web server at the
largest body any route takes means a client, logged in or not, cannot make it store more: a
larger body is refused from its Content-Length before it is read. (`serve` caps waitress the
same way; see cli/serve.py.)
"""

from __future__ import annotations

import argparse

from cli.base import runtime
from core.settings import Settings
from identity.request_limits import largest_body


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("web-server-limits",
                       help="body-size lines for Apache (.htaccess) and nginx in front of Passenger")
    p.set_defaults(handler=show)


def limit_lines(settings: Settings) -> str:
    """The lines to paste, from the current settings (they change with CAMET_UPLOAD_MAX_BYTES)."""
    cap = largest_body(settings)
    return (f"# Apache / LiteSpeed: in the site's .htaccess (document root), next to the Passenger lines\n"
            f"LimitRequestBody {cap}\n"
            f"# nginx: in the server block\n"
            f"client_max_body_size {cap};\n")


def show(args: argparse.Namespace) -> int:
    print(limit_lines(runtime(args).settings), end="")
    return 0
