"""Owner-only files: the var directory is 0700 and every SQLite file and secret in it 0600.

SQLite creates its -wal/-shm/-journal files with the mode of the database file, so creating
the database file 0600 before SQLite opens it is enough for new files; `secure_var_dir` fixes
installations made before this rule, at start-up.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_PRIVATE_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal", ".txt")


def _chmod(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except PermissionError:
        pass  # not ours to change (a shared directory named by the operator)


def private_sqlite_file(path: Path) -> None:
    """Create the database file 0600 (its directory 0700 when we create it) before SQLite does."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=PRIVATE_DIR)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE)
    os.close(fd)
    _chmod(path, PRIVATE_FILE)


def secure_var_dir(var_dir: Path) -> None:
    """Make var/ 0700 and its databases and secrets 0600 (creating var/ when missing)."""
    var_dir.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    _chmod(var_dir, PRIVATE_DIR)
    for path in var_dir.iterdir():
        if path.is_file() and path.name.endswith(_PRIVATE_SUFFIXES):
            _chmod(path, PRIVATE_FILE)
