"""manage.py run as an operator runs it (the environment: the `cli_env` fixture in conftest.py)."""

from __future__ import annotations

import subprocess
import sys

from core.settings import PROJECT_ROOT


def manage(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), *args],
        cwd=PROJECT_ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=300,
    )
