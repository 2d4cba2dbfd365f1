"""Small helpers shared by benchmark scripts: machine description, timing, child processes and
the throw-away MariaDB databases they create."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from sqlalchemy import text

from core.db import build_engine, parse_db_url
from core.tenants import ensure_database

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
# What the readers' benchmarks report the versions of.
READER_PACKAGES = ("pandas", "numpy", "sqlalchemy", "pymysql", "mysqlclient", "connectorx")


def machine_info(packages: tuple[str, ...] = ()) -> dict[str, object]:
    """CPU, cores, RAM, OS and package versions, for the report header."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": cpu, "cores": os.cpu_count(), "ram_gb": round(ram / 1024**3, 1),
        "os": platform.platform(), "python": platform.python_version(), "versions": versions,
    }


def print_machine(info: dict[str, object]) -> None:
    print(f"machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, {info['os']}")
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())  # type: ignore[union-attr]
    print(f"python {info['python']}; {versions}")


def timed(fn: Callable[[], object], repeat: int = 3) -> tuple[float, list[float]]:
    """Median wall time of `repeat` calls and every sample."""
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), samples


def run_child(script: Path, payload: dict[str, object], timeout_s: float = 1800) -> dict[str, object]:
    """Run `script --child JSON` in a fresh interpreter; its last stdout line is a JSON result."""
    proc = subprocess.run(
        [sys.executable, str(script), "--child", json.dumps(payload)],
        capture_output=True, text=True, timeout=timeout_s, cwd=ROOT, check=False,
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def mb(n: float) -> str:
    return f"{n / MB:,.1f} MB"


def add_child_arguments(parser: argparse.ArgumentParser) -> None:
    """--mysql-url (default $CAMET_BENCH_MYSQL_URL or the local test server) and the hidden
    --child JSON payload that run_child passes to a fresh interpreter."""
    parser.add_argument("--mysql-url", default=os.environ.get(
        "CAMET_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"))
    parser.add_argument("--child", help=argparse.SUPPRESS)


def answered_as_child(args: argparse.Namespace, child: Callable[[dict], dict]) -> bool:
    """In a child process (--child), run `child` on the payload and print its JSON result."""
    if not args.child:
        return False
    print(json.dumps(child(json.loads(args.child))))
    return True


def central_db_url(backend: str, mysql_url: str, prefix: str) -> str:
    """The central database URL of a throw-away installation: on MariaDB a new database named
    `prefix` (created here; its tenants get `prefix_<slug>`), on SQLite "" (a file in var_dir)."""
    if backend != "mysql":
        return ""
    central = parse_db_url(mysql_url).set(database=prefix).render_as_string(hide_password=False)
    ensure_database(central)
    return central


def drop_databases(mysql_url: str, prefix: str) -> None:
    """Drop the databases a run created: `prefix` itself and every `prefix_…` (its tenants)."""
    server = build_engine(parse_db_url(mysql_url).set(database="mysql"))
    try:
        with server.begin() as conn:
            for name in conn.execute(text("SHOW DATABASES")).scalars().all():
                if name == prefix or name.startswith(prefix + "_"):
                    conn.execute(text(f"DROP DATABASE `{name}`"))
    finally:
        server.dispose()


def backend_names(text: str) -> list[str]:
    """The backends of a `--backends mysql,sqlite` option, blanks dropped."""
    return [b.strip() for b in text.split(",") if b.strip()]


@contextmanager
def scratch_run(backend: str, mysql_url: str, db_stem: str) -> Iterator[tuple[Path, str]]:
    """A temporary var folder and a fresh database prefix for one backend's run.

    Both go afterwards, also when the run fails: the folder, and on MariaDB every database
    created under the prefix.
    """
    var_dir = Path(tempfile.mkdtemp(prefix="camet_bench_"))
    prefix = f"{db_stem}_{uuid.uuid4().hex[:8]}"
    try:
        yield var_dir, prefix
    finally:
        if backend == "mysql":
            drop_databases(mysql_url, prefix)
        shutil.rmtree(var_dir, ignore_errors=True)
