"""Fault run: the product's answers while its parts fail, and what the data looks like afterwards.

Builds a throw-away installation on a private `mariadbd` (own port and data dir, started with
`--wait-timeout=8` like a shared host), seeds the demo tenant, and starts the real processes:
two engines (uvicorn; both run the jobs, so leadership is contested), the pages (waitress,
4 threads, as a small host), a gateway thread that posts batches of detections to engine A and
resends a batch until it is accepted (batches are idempotent), and a prober that asks, every
half second, for the engine's health, the login page, a static file and (every 2 s) a
dashboard run. Then it injects one fault after another into the real processes:

  engine-kill     SIGKILL of engine A, restarted 3 s later
  db-freeze       SIGSTOP of mariadbd for 20 s (a host that hangs), then SIGCONT
  db-kill         SIGKILL of mariadbd during a dashboard run, restarted 5 s later
  lock-kill       the jobs made long (every line re-analysed), then the idle lock connection killed
  late-data       a detection back-filled into an old stop through the ingestion API
  implausible     a CSV with rows from 1999 and 2030 through `manage.py import-detections`
  redis-down      pages and an engine configured for Redis sessions/limits on a closed port
  big-body        a 100 MiB POST to /login on the pages server (temp file growth watched)
  empty-length    passenger_wsgi under wsgiref (CONTENT_LENGTH sent empty) answering a GET

For each fault a row: rows sent / stored / lost / duplicated by the gateway during it, the
answers clients saw (status counts and worst latency per endpoint), the time until everything
answered 2xx again, and job-run overlaps over the whole run (must be 0). The report goes to
bench/results/faults-<timestamp>.txt (and .json with every probe).

    .venv/bin/python bench/bench_faults.py [--days 2] [--rows 300000] [--freeze-s 20]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import pymysql  # noqa: E402

from bench._common import ROOT, machine_info, print_machine  # noqa: E402
from cli.serve import waitress_argv  # noqa: E402
from core.settings import load_settings  # noqa: E402
from tests.private_mariadb import PrivateMariaDB, available  # noqa: E402
from tests.servers import free_port  # noqa: E402

PASSWORD = "demo-camet"  # noqa: S105 - the demo's documented password
GATEWAY_LINE = "L3"
LEAK = re.compile(r"mysql\+|pymysql|127\.0\.0\.1:\d+|root@|Traceback", re.I)
SPANISH = re.compile(r"[áéíóúñ¿¡]|base de datos|servicio|disponible|intente|reintente", re.I)


def now() -> float:
    return time.monotonic()


@dataclass
class Probe:
    t: float
    endpoint: str
    status: str
    seconds: float
    leak: bool = False
    spanish: bool = True


@dataclass
class Phase:
    name: str
    start: float
    end: float = 0.0
    fault_end: float = 0.0
    notes: dict[str, object] = field(default_factory=dict)


class Installation:
    """The private server, the var dir, the environment and the server processes."""

    def __init__(self, root: Path, args: argparse.Namespace) -> None:
        self.root = root
        self.args = args
        self.db = PrivateMariaDB(root / "mariadb", extra_args=("--wait-timeout=8",))
        self.db.root.mkdir(parents=True)
        self.var = root / "var"
        self.tmp = root / "pages-tmp"
        self.tmp.mkdir()
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports = {"engine_a": free_port(), "engine_b": free_port(), "pages": free_port()}
        self.logs = root / "logs"
        self.logs.mkdir()

    @property
    def central_url(self) -> str:
        return self.db.url("camet")

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ, CAMET_ENV="development", CAMET_VAR_DIR=str(self.var),
                   CAMET_CENTRAL_DB_URL=self.central_url, CAMET_JOBS="on", CAMET_JOBS_TICK_S="2",
                   CAMET_JOBS_LEASE_S="10", CAMET_QUERY_TIMEOUT_S="10", CAMET_LOG_LEVEL="WARNING",
                   CAMET_RESULT_CACHE_TTL_S="0", DEMO_LIVE="0", PYTHONUNBUFFERED="1",
                   CAMET_ENGINE_URL=f"http://127.0.0.1:{self.ports['engine_a']}")
        env.update(extra)
        return env

    def manage(self, *argv: str, check: bool = True, timeout_s: float = 1800, **env: str
               ) -> subprocess.CompletedProcess:
        """`manage.py ARGV`; a command still running after `timeout_s` is killed (returncode None)."""
        try:
            return subprocess.run([sys.executable, str(ROOT / "manage.py"), *argv], cwd=ROOT,
                                  env=self.env(**env), capture_output=True, text=True, check=check,
                                  timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            return subprocess.CompletedProcess(exc.cmd, None, "", f"killed after {timeout_s:.0f} s")

    def setup(self) -> None:
        self.db.start()
        self.db.execute("CREATE DATABASE camet CHARACTER SET utf8mb4")
        self.manage("init-db")
        self.manage("seed-demo", "--days", str(self.args.days), "--rows", str(self.args.rows))

    def start(self, name: str, **env: str) -> None:
        """Start one server process by name and wait until it answers."""
        port = self.ports[name] if name in self.ports else self.ports.setdefault(name, free_port())
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        if name.startswith("engine"):
            argv = [sys.executable, "-m", "uvicorn", "--factory", "app_fastapi.main:create_app", "--host",
                    "127.0.0.1", "--port", str(port), "--no-server-header", "--log-level", "warning",
                    "--no-proxy-headers"]
            health = f"http://127.0.0.1:{port}/api/v1/health"
        else:
            argv = waitress_argv(load_settings(), ["--call", "app_flask:create_app"], host="127.0.0.1",
                                 port=port, engine=False, threads=4)
            health = f"http://127.0.0.1:{port}/health"
            env = {"TMPDIR": str(self.tmp), **env}
        self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env(**env), stdout=log,
                                            stderr=subprocess.STDOUT)
        log.close()
        deadline = now() + 90
        while now() < deadline:
            try:
                if httpx.get(health, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not start: see {self.logs / (name + '.log')}")

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.procs):
            proc = self.procs.pop(name)
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.db.stop()

    def sql(self, sql: str, database: str = "camet") -> list[tuple]:
        return self.db.execute(sql, database, timeout_s=120)

    def url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"


class Gateway(threading.Thread):
    """A line gateway: 20 detections of GATEWAY_LINE every 0.5 s, each batch resent until 2xx."""

    def __init__(self, inst: Installation, key: str) -> None:
        super().__init__(daemon=True)
        self.inst = inst
        self.key = key
        self.stop_flag = threading.Event()
        self.sent: list[tuple[float, str, int]] = []  # (time created, batch_id, rows)
        self.answers: list[Probe] = []
        self.first_ts: datetime | None = None
        self.clock = datetime.now(UTC).replace(microsecond=0)

    def run(self) -> None:
        client = httpx.Client(timeout=15)
        while not self.stop_flag.is_set():
            batch_id = uuid.uuid4().hex
            rows = []
            for _ in range(20):
                self.clock += timedelta(milliseconds=25)
                rows.append({"ts": self.clock.isoformat().replace("+00:00", "Z"), "product_code": "GD-300",
                             "weight_g": 301.5, "status": "ok"})
            self.first_ts = self.first_ts or self.clock
            body = {"batch_id": batch_id, "line": GATEWAY_LINE, "detections": rows}
            created = now()
            self.sent.append((created, batch_id, len(rows)))
            delay = 0.25
            while not self.stop_flag.is_set():
                t0 = now()
                try:
                    r = client.post(self.inst.url("engine_a", "/api/v1/ingest/detections"), json=body,
                                    headers={"X-Api-Key": self.key})
                    status = str(r.status_code)
                    leak = bool(LEAK.search(r.text))
                except httpx.HTTPError as exc:
                    status, leak = type(exc).__name__, False
                self.answers.append(Probe(t0, "ingest", status, now() - t0, leak))
                if status.startswith("2"):
                    break
                if status.startswith("4") and status not in ("429", "408"):
                    break  # refused for good: the gateway would log it and move on
                time.sleep(delay)
                delay = min(delay * 2, 4.0)
            time.sleep(max(0.0, 0.5 - (now() - created)))
        client.close()


class Prober(threading.Thread):
    """Health, login page, a static file every 0.5 s; a dashboard run every 2 s (own threads)."""

    def __init__(self, inst: Installation, token: str) -> None:
        super().__init__(daemon=True)
        self.inst = inst
        self.token = token
        self.stop_flag = threading.Event()
        self.probes: list[Probe] = []
        self._lock = threading.Lock()

    def _probe(self, endpoint: str, method: str, url: str, **kw: object) -> None:
        t0 = now()
        try:
            r = httpx.request(method, url, timeout=120, **kw)
            if r.status_code == 401 and endpoint == "run":  # the token outlived its TTL: a new one
                self.token = engine_token(self.inst)
                kw = {**kw, "headers": {"Authorization": f"Bearer {self.token}"}}
                r = httpx.request(method, url, timeout=120, **kw)
            status, text = str(r.status_code), r.text
        except httpx.HTTPError as exc:
            status, text = type(exc).__name__, ""
        probe = Probe(t0, endpoint, status, now() - t0, bool(LEAK.search(text)),
                      not status.startswith("5") or bool(SPANISH.search(text)))
        with self._lock:
            self.probes.append(probe)

    def run(self) -> None:
        tick = 0
        body = {"filters": {"fecha": {"preset": "hoy"}}}
        while not self.stop_flag.is_set():
            jobs = [("health", "GET", self.inst.url("engine_a", "/api/v1/health"), {}),
                    ("login", "GET", self.inst.url("pages", "/login"), {}),
                    ("static", "GET", self.inst.url("pages", "/static/favicon.svg"), {})]
            if tick % 4 == 0:
                jobs.append(("run", "POST", self.inst.url("engine_a", "/api/v1/dashboard/run"),
                             {"json": body, "headers": {"Authorization": f"Bearer {self.token}"}}))
            for endpoint, method, url, kw in jobs:
                threading.Thread(target=self._probe, args=(endpoint, method, url), kwargs=kw,
                                 daemon=True).start()
            tick += 1
            time.sleep(0.5)


def engine_token(inst: Installation) -> str:
    r = httpx.post(inst.url("engine_a", "/api/v1/auth/token"), json={
        "tenant": "demo", "username": "demo", "password": PASSWORD}, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


def job_overlaps(inst: Installation) -> tuple[int, int, Counter]:
    """(overlapping pairs, runs, runs by status) in job_runs: a run that starts before the
    previous run of the same job and tenant ended (an unfinished one never ends)."""
    rows = inst.sql("SELECT job_id, tenant_slug, started_at, finished_at, status FROM job_runs "
                    "ORDER BY job_id, tenant_slug, started_at")
    overlaps, last_end = 0, {}
    statuses: Counter = Counter()
    far = datetime(9999, 1, 1)
    for job_id, slug, started, finished, status in rows:
        statuses[status] += 1
        key = (job_id, slug)
        if key in last_end and started < last_end[key]:
            overlaps += 1
        end = finished or (far if status == "running" else started)
        last_end[key] = max(last_end.get(key, started), end)
    return overlaps, len(rows), statuses


def gateway_rows(inst: Installation, gw: Gateway) -> tuple[int, int]:
    """(rows stored, distinct (ts) stored) for the gateway's line since it began."""
    line_id = inst.sql(f"SELECT id FROM `lines` WHERE code = '{GATEWAY_LINE}'", "camet_demo")[0][0]
    start = (gw.first_ts - timedelta(seconds=1)).astimezone(UTC).replace(tzinfo=None)
    tz = inst.sql("SELECT timezone FROM tenants WHERE slug = 'demo'")[0][0]
    from zoneinfo import ZoneInfo

    local = start.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    rows = inst.sql(f"SELECT COUNT(*), COUNT(DISTINCT ts) FROM detections_{line_id} WHERE ts >= '{local}'",
                    "camet_demo")
    return int(rows[0][0]), int(rows[0][1])


def summarise(phase: Phase, probes: list[Probe], gw: Gateway) -> dict[str, object]:
    lo, hi = phase.start, phase.end
    seen = [p for p in probes + gw.answers if lo <= p.t < hi]
    by_endpoint: dict[str, Counter] = defaultdict(Counter)
    worst: dict[str, float] = defaultdict(float)
    for p in seen:
        by_endpoint[p.endpoint][p.status] += 1
        worst[p.endpoint] = max(worst[p.endpoint], p.seconds)
    recover = None
    if phase.fault_end:
        failing_after = [p.t + p.seconds for p in seen
                         if p.t + p.seconds >= phase.fault_end and not p.status.startswith(("2", "3", "4"))]
        recover = round(max(failing_after) - phase.fault_end, 1) if failing_after else 0.0
    sent = sum(n for t, _, n in gw.sent if lo <= t < hi)
    return {"answers": {k: dict(v) for k, v in sorted(by_endpoint.items())},
            "worst_s": {k: round(v, 2) for k, v in sorted(worst.items())},
            "leaks": sum(p.leak for p in seen), "english_5xx": sum(not p.spanish for p in seen),
            "recover_s": recover, "rows_sent": sent, **phase.notes}


# --------------------------------------------------------------------------- faults


def fault_engine_kill(inst: Installation, phase: Phase) -> None:
    inst.kill("engine_a")
    time.sleep(3)
    inst.start("engine_a")
    phase.fault_end = now()
    time.sleep(5)


def fault_db_freeze(inst: Installation, phase: Phase, seconds: float) -> None:
    inst.db.freeze()
    time.sleep(seconds)
    inst.db.thaw()
    phase.fault_end = now()
    time.sleep(10)


def fault_db_kill(inst: Installation, phase: Phase, token: str) -> None:
    box: dict[str, object] = {}

    def run() -> None:
        t0 = now()
        try:
            r = httpx.post(inst.url("engine_a", "/api/v1/dashboard/run"), timeout=120,
                           json={"filters": {"fecha": {"preset": "ultimos_7_dias"}}},
                           headers={"Authorization": f"Bearer {token}"})
            box.update(status=r.status_code, body=r.text[:200])
        except httpx.HTTPError as exc:
            box.update(status=type(exc).__name__, body="")
        box["seconds"] = round(now() - t0, 2)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.15)
    inst.db.kill()
    thread.join()
    phase.notes["run_killed_mid_way"] = box
    time.sleep(5)
    inst.db.start()
    phase.fault_end = now()
    time.sleep(10)


def fault_lock_kill(inst: Installation, phase: Phase) -> None:
    """Make the next job runs long (every line's stops and rollups from the first day), then
    kill the central database's idle connections (the job lock's among them) twice."""
    first = inst.sql("SELECT MIN(next_date) FROM stops_state", "camet_demo")[0][0]
    inst.sql(f"UPDATE stops_state SET dirty_from = '{first}'", "camet_demo")
    with_rollups = inst.sql("SHOW TABLES LIKE 'rollups_state'", "camet_demo")
    if with_rollups:
        inst.sql("UPDATE rollups_state SET dirty_from = '2000-01-01', dirty_until = NOW()", "camet_demo")
    # Every job due now: move the recorded runs back in time (their order and lengths unchanged).
    inst.sql("UPDATE job_runs SET started_at = started_at - INTERVAL 10 MINUTE, "
             "finished_at = finished_at - INTERVAL 10 MINUTE")
    killed = 0
    for _ in range(2):
        time.sleep(4)
        for pid, command in inst.sql(
                "SELECT ID, COMMAND FROM information_schema.PROCESSLIST WHERE DB = 'camet'"):
            if command == "Sleep":
                try:
                    inst.sql(f"KILL {int(pid)}")
                    killed += 1
                except pymysql.MySQLError:
                    pass
    phase.notes["idle_connections_killed"] = killed
    phase.fault_end = now()
    time.sleep(25)  # long runs finish; wait_timeout=8 fires on any idle lock connection meanwhile


def fault_late_data(inst: Installation, phase: Phase, key: str) -> None:
    """Post one detection in the middle of an old stop of L1; rerun gap analysis; the stop must split."""
    line_id = inst.sql("SELECT id FROM `lines` WHERE code = 'L1'", "camet_demo")[0][0]
    row = inst.sql(f"SELECT start_ts, end_ts FROM stops WHERE line_id = {line_id} AND end_ts IS NOT NULL "
                   "AND kind = 'stop' AND downtime_s BETWEEN 600 AND 3600 "
                   "ORDER BY start_ts DESC LIMIT 1", "camet_demo")
    if not row:
        phase.notes["late_data"] = "no stop of 10-60 min on L1 to split"
        return
    start, end = row[0]
    middle = start + (end - start) / 2
    middle = middle.replace(microsecond=middle.microsecond // 1000 * 1000)  # detections keep ms
    tz = inst.sql("SELECT timezone FROM tenants WHERE slug = 'demo'")[0][0]
    body = {"batch_id": uuid.uuid4().hex, "line": "L1", "detections": [
        {"ts": middle.isoformat(), "product_code": "PF-150", "weight_g": 150.2, "status": "ok"}]}
    r = httpx.post(inst.url("engine_a", "/api/v1/ingest/detections"), json=body, headers={"X-Api-Key": key},
                   timeout=60)
    deadline = time.monotonic() + 300
    while True:  # a scheduled run of the same job may hold the lock: wait for it, as an admin would
        out = inst.manage("jobs", "run", "gap-analysis", "--tenant", "demo", check=False)
        if out.returncode == 0 or "try again" not in out.stdout + out.stderr or time.monotonic() > deadline:
            break
        time.sleep(2)
    around = inst.sql(f"SELECT start_ts, end_ts, downtime_s FROM stops WHERE line_id = {line_id} "
                      f"AND end_ts > '{start}' AND start_ts < '{end}' ORDER BY start_ts", "camet_demo")
    spanning = [row for row in around if row[0] < middle < row[1]]
    phase.notes["late_data"] = {"stop": f"{start}..{end} ({(end - start).total_seconds():.0f} s, {tz})",
                                "ingest": f"{r.status_code} inserted {r.json().get('rows_inserted')}",
                                "gap_job": f"exit {out.returncode} {(out.stdout + out.stderr).strip()[-99:]}",
                                "stops_after": [f"{a:%H:%M:%S}-{b:%H:%M:%S} {d:.0f} s" for a, b, d in around],
                                "stops_spanning_the_new_detection": len(spanning)}
    phase.fault_end = now()


def fault_implausible(inst: Installation, phase: Phase) -> None:
    def partitions() -> int:
        return int(inst.sql("SELECT COUNT(*) FROM information_schema.PARTITIONS "
                            "WHERE TABLE_SCHEMA = 'camet_demo' AND PARTITION_NAME IS NOT NULL")[0][0])

    before = partitions()
    path = inst.root / "implausible.csv"
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["ts", "product_code", "weight_g", "status"])
    writer.writerow(["1999-12-31T10:00:00", "EX-060", "60.1", "ok"])
    writer.writerow(["2030-01-01T10:00:00", "EX-060", "60.3", "ok"])
    path.write_text(buf.getvalue())
    out = inst.manage("import-detections", "--tenant", "demo", "--line", "L2", str(path), check=False)
    t0 = now()
    jobs = {}
    for name in ("partitions", "gap-analysis", "rollups"):
        t1 = now()
        done = inst.manage("jobs", "run", name, "--tenant", "demo", check=False,
                           timeout_s=inst.args.job_timeout_s)
        jobs[name] = f"exit {done.returncode} in {now() - t1:.0f} s"
    phase.notes["implausible"] = {
        "import_exit": out.returncode, "import_says": (out.stdout + out.stderr).strip().splitlines()[-1:],
        "partitions_before": before, "partitions_after": partitions(),
        "jobs": jobs, "jobs_s": round(now() - t0, 1)}


def fault_redis_down(inst: Installation, phase: Phase, key: str) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    redis_env = {"CAMET_SESSION_BACKEND": "redis", "CAMET_REDIS_URL": closed,
                 "CAMET_RATELIMIT_STORAGE_URI": closed, "CAMET_JOBS": "off"}
    answers: dict[str, object] = {}
    try:
        inst.start("pages_redis", **redis_env)
        inst.start("engine_redis", **redis_env)
    except RuntimeError as exc:
        answers["start"] = str(exc)
    pages = inst.url("pages_redis", "/login") if "pages_redis" in inst.ports else ""
    login = {"tenant": "demo", "username": "demo", "password": PASSWORD}
    for name, method, url, kw in (
            ("GET /login", "GET", pages, {}),
            ("POST /login", "POST", pages, {"data": login}),
            ("POST /api/v1/auth/token", "POST", inst.url("engine_redis", "/api/v1/auth/token"),
             {"json": login}),
            ("POST ingest", "POST", inst.url("engine_redis", "/api/v1/ingest/detections"),
             {"json": {"line": GATEWAY_LINE, "detections": []}, "headers": {"X-Api-Key": key}}),
            ("GET health", "GET", inst.url("engine_redis", "/api/v1/health"), {})):
        try:
            r = httpx.request(method, url, timeout=30, **kw)
            answers[name] = f"{r.status_code} {r.text[:80]!r}" if r.status_code >= 400 or "health" in name \
                else str(r.status_code)
        except httpx.HTTPError as exc:
            answers[name] = type(exc).__name__
    inst.kill("pages_redis")
    inst.kill("engine_redis")
    phase.notes["redis_down"] = answers


def fault_big_body(inst: Installation, phase: Phase) -> None:
    size = 100 * 1024 * 1024
    peak = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            for path in inst.tmp.rglob("*"):
                try:
                    peak = max(peak, path.stat().st_size)
                except OSError:
                    pass
            for fd in Path(f"/proc/{inst.procs['pages'].pid}/fd").glob("*"):
                try:
                    target = os.readlink(fd)
                    if target.startswith(str(inst.tmp)) or "(deleted)" in target:
                        peak = max(peak, os.stat(fd).st_size)
                except OSError:
                    pass
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

    def body():  # noqa: ANN202 - a generator of chunks
        chunk = b"a" * (1024 * 1024)
        for _ in range(size // len(chunk)):
            yield chunk

    t0 = now()
    try:
        r = httpx.post(inst.url("pages", "/login"), content=body(), timeout=120, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(size)})
        status = str(r.status_code)
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    done.set()
    watcher.join()
    phase.notes["big_body"] = {"status": status, "seconds": round(now() - t0, 2),
                               "largest_temp_file_mb": round(peak / 1024 / 1024, 1)}


def fault_empty_length(inst: Installation, phase: Phase) -> None:
    port = free_port()
    code = ("import sys; sys.path.insert(0, '.');"
            "from wsgiref.simple_server import make_server, WSGIRequestHandler;"
            "import passenger_wsgi;"
            "WSGIRequestHandler.log_message = lambda *a: None;"
            f"make_server('127.0.0.1', {port}, passenger_wsgi.application).serve_forever()")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=inst.env(CAMET_JOBS="off"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    answers: dict[str, str] = {}
    try:
        deadline = now() + 60
        while now() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        for path in ("/api/v1/health", "/login"):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=30)
                failed = r.status_code >= 400
                answers[path] = f"{r.status_code} {r.text[:60]!r}" if failed else str(r.status_code)
            except httpx.HTTPError as exc:
                answers[path] = type(exc).__name__
    finally:
        proc.kill()
        proc.wait()
    phase.notes["empty_length_wsgiref"] = answers


# --------------------------------------------------------------------------- report


def report(info: dict, args: argparse.Namespace, rows: list[tuple[str, dict]], totals: dict) -> str:
    out = io.StringIO()
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"# bench_faults {datetime.now(UTC):%Y-%m-%dT%H:%MZ}")
    p(f"machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM; python {info['python']}")
    p(f"command: {' '.join(sys.argv)}")
    p(f"data: demo tenant, {args.rows:,} detections over {args.days} days on a private mariadbd "
      "(--wait-timeout=8); 2 engines (uvicorn), pages (waitress, 4 threads); gateway 40 rows/s on "
      f"{GATEWAY_LINE}; probes every 0.5 s (run every 2 s)")
    p("")
    p("| fault | rows sent | answers (status: count) | worst latency s | recover s | leaks / English 5xx "
      "| notes |")
    p("|---|---|---|---|---|---|---|")
    for name, s in rows:
        answers = "; ".join(f"{k} {' '.join(f'{st}:{n}' for st, n in v.items())}"
                            for k, v in s["answers"].items())
        worst = ", ".join(f"{k} {v}" for k, v in s["worst_s"].items())
        notes = {k: v for k, v in s.items() if k not in (
            "answers", "worst_s", "leaks", "english_5xx", "recover_s", "rows_sent")}
        p(f"| {name} | {s['rows_sent']} | {answers} | {worst} | {s['recover_s']} | "
          f"{s['leaks']} / {s['english_5xx']} | {json.dumps(notes, default=str, ensure_ascii=False)} |")
    p("")
    p(f"gateway over the whole run: sent {totals['sent']} rows in {totals['batches']} batches; stored "
      f"{totals['stored']}; lost {totals['lost']}; duplicated {totals['duplicated']}; refused batches "
      f"{totals['refused']}")
    p(f"job runs: {totals['runs']} ({dict(totals['statuses'])}); overlapping runs of one job and tenant: "
      f"{totals['overlaps']}")
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--freeze-s", type=float, default=20.0)
    parser.add_argument("--job-timeout-s", type=float, default=300.0,
                        help="a job run by hand after the implausible import is killed after this")
    parser.add_argument("--faults", default="", help="comma-separated subset of the faults (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the installation and logs")
    args = parser.parse_args()
    if not available():
        print("mariadbd / mariadb-install-db not installed")
        return 2
    info = machine_info(("sqlalchemy", "pymysql", "uvicorn", "waitress"))
    print_machine(info)
    root = Path(tempfile.mkdtemp(prefix="camet-faults-"))
    inst = Installation(root, args)
    rows: list[tuple[str, dict]] = []
    gw = prober = None
    try:
        print("setting up (private mariadbd, seed-demo)...", flush=True)
        inst.setup()
        key = (inst.var / "demo_ingest_key.txt").read_text().strip()
        inst.start("engine_a")
        inst.start("engine_b")
        inst.start("pages")
        token = engine_token(inst)
        gw, prober = Gateway(inst, key), Prober(inst, token)
        gw.start()
        prober.start()
        plan = [
            ("steady", lambda ph: time.sleep(8)),
            ("engine-kill", lambda ph: fault_engine_kill(inst, ph)),
            ("db-freeze", lambda ph: fault_db_freeze(inst, ph, args.freeze_s)),
            ("db-kill", lambda ph: fault_db_kill(inst, ph, token)),
            ("lock-kill", lambda ph: fault_lock_kill(inst, ph)),
            ("late-data", lambda ph: fault_late_data(inst, ph, key)),
            ("implausible", lambda ph: fault_implausible(inst, ph)),
            ("redis-down", lambda ph: fault_redis_down(inst, ph, key)),
            ("big-body", lambda ph: fault_big_body(inst, ph)),
            ("empty-length", lambda ph: fault_empty_length(inst, ph)),
        ]
        phases = []
        chosen = set(args.faults.split(",")) if args.faults else None
        for name, fault in plan:
            if chosen is not None and name not in chosen and name != "steady":
                continue
            print(f"fault: {name}", flush=True)
            phase = Phase(name, now())
            try:
                fault(phase)
            except Exception as exc:  # noqa: BLE001 - a broken fault is reported, the run goes on
                phase.notes["bench_error"] = f"{type(exc).__name__}: {exc}"
            phase.end = now()
            phases.append(phase)
        gw.stop_flag.set()
        prober.stop_flag.set()
        gw.join(timeout=60)
        time.sleep(3)
        for phase in phases:
            rows.append((phase.name, summarise(phase, prober.probes, gw)))
        sent = sum(n for _, _, n in gw.sent)
        refused = sum(1 for p in gw.answers if p.status.startswith("4") and p.status not in ("429", "408"))
        totals: dict[str, object] = {"sent": sent, "batches": len(gw.sent), "refused": refused}
        try:
            stored, distinct = gateway_rows(inst, gw)
            overlaps, runs, statuses = job_overlaps(inst)
            totals.update(stored=stored, lost=max(0, sent - distinct), duplicated=stored - distinct,
                          overlaps=overlaps, runs=runs, statuses=statuses)
        except Exception as exc:  # noqa: BLE001 - the rows above are still worth writing
            totals.update(stored="?", lost="?", duplicated="?", overlaps="?", runs="?",
                          statuses=Counter({f"unreadable: {exc}": 1}))
        text = report(info, args, rows, totals)
        print(text)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        results = ROOT / "bench" / "results"
        (results / f"faults-{stamp}.txt").write_text(text)
        (results / f"faults-{stamp}.json").write_text(json.dumps(
            {"rows": rows, "totals": {**totals, "statuses": dict(totals["statuses"])},
             "probes": [p.__dict__ for p in prober.probes + gw.answers]}, default=str))
        print(f"written: bench/results/faults-{stamp}.txt")
        return 0
    finally:
        if gw is not None:
            gw.stop_flag.set()
        if prober is not None:
            prober.stop_flag.set()
        inst.stop_all()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept: {root}")
        signal.signal(signal.SIGINT, signal.SIG_DFL)


if __name__ == "__main__":
    sys.exit(main())
