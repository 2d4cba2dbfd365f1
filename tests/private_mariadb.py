"""A private `mariadbd` for fault tests: its own data dir and port, so a test may freeze, kill
and restart it without touching the shared server other tests (and other work) use.

One installation per test worker is enough: `install()` runs `mariadb-install-db` once into a
template directory and every server copies it (a copy takes ~0.1 s, an install ~2 s).
Faults are real signals to the real process: `freeze()` is SIGSTOP (the server keeps its
sockets open and answers nothing, like a host that hangs), `kill()` is SIGKILL, `restart()`
starts it again on the same port and data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pymysql

from tests.fault_process import SignalledProcess
from tests.servers import free_port

MARIADBD = "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db") or ""


def available() -> bool:
    """True when this machine can start a private server (the MariaDB packages are installed)."""
    return os.path.exists(MARIADBD) and bool(INSTALL_DB)


def _template(root: Path) -> Path:
    template = root / "template"
    if not (template / "mysql").is_dir():
        shutil.rmtree(template, ignore_errors=True)
        subprocess.run(
            [INSTALL_DB, "--no-defaults", f"--datadir={template}", "--auth-root-authentication-method=normal",
             "--skip-test-db", f"--user={_user()}", "--innodb-log-file-size=8M"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
    return template


def _user() -> str:
    import getpass

    return getpass.getuser()


class PrivateMariaDB(SignalledProcess):
    """One server process; `url(db)` is the SQLAlchemy URL of a database on it."""

    def __init__(self, root: Path, *, extra_args: tuple[str, ...] = ()) -> None:
        self.root = root
        self.datadir = root / "data"
        self.port = free_port()
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None
        self.frozen = False

    def url(self, database: str = "test") -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}"

    def start(self, timeout_s: float = 30.0) -> None:
        """Start (or restart) the server and wait until it answers."""
        if not self.datadir.exists():
            shutil.copytree(_template(self.root.parent), self.datadir)
        log = open(self.root / "server.log", "ab")  # noqa: SIM115 - the child keeps it open
        self.process = subprocess.Popen(
            [MARIADBD, "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={self.root / 'sock'}", f"--pid-file={self.root / 'pid'}",
             f"--user={_user()}", "--skip-log-bin", "--skip-name-resolve", "--innodb-buffer-pool-size=16M",
             "--innodb-log-file-size=8M", "--max-connections=200", *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        self.frozen = False
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited: see {self.root / 'server.log'}")
            try:
                pymysql.connect(host="127.0.0.1", port=self.port, user="root", connect_timeout=1).close()
                break
            except pymysql.MySQLError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"mariadbd on port {self.port} did not come up")
        self.execute("CREATE DATABASE IF NOT EXISTS test")

    def execute(self, sql: str, database: str | None = None, timeout_s: float = 10) -> list[tuple]:
        """One statement as root on a fresh connection (setup and inspection in tests)."""
        conn = pymysql.connect(host="127.0.0.1", port=self.port, user="root", database=database,
                               connect_timeout=2, read_timeout=timeout_s, write_timeout=timeout_s,
                               autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return list(cur.fetchall())
        finally:
            conn.close()

    def restart(self) -> None:
        """Kill and start again on the same port and data (crash recovery included)."""
        self.kill()
        self.start()

    def stop(self) -> None:
        """Graceful end (used at teardown)."""
        if self.process is None:
            return
        self.thaw()
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def private_mariadb(root: Path, *, extra_args: tuple[str, ...] = ()) -> Iterator[PrivateMariaDB]:
    """A started private server under `root/<port>`; stopped and removed at the end."""
    server = PrivateMariaDB(root / f"srv{free_port()}", extra_args=extra_args)
    server.root.mkdir(parents=True)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
