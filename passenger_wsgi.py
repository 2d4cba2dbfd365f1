"""Passenger entry point: one WSGI `application`, Flask at `/`, the FastAPI engine under `/api`.

Both apps are built lazily per process (wsgi.py composes them), so Passenger may fork freely.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wsgi import build_application  # noqa: E402

application = build_application()
