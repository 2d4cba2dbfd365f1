"""`simulate`: keep a plant producing through the ingestion API (the demo, and an example gateway).

Every few seconds it posts the detections the simulated lines produced since the last tick.
Pause a line with `--pause-line L2`, or at run time by writing its code into the control file
(one code per line; default var/simulate_pause.txt); delete the code to resume.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from pathlib import Path

from cli.base import fail, runtime
from cli.demo import DEMO_KEY_FILE
from core.settings import PROJECT_ROOT
from ingest.plant_metadata import parse_plant
from ingest.simulator import GatewayClient, PlantSimulator

DEMO_PLANT = PROJECT_ROOT / "config" / "demo_plant.yml"
PAUSE_FILE = "simulate_pause.txt"
log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="post simulated detections to the ingestion API (demo gateway)")
    p.add_argument("--url", default=None, help="engine base URL (default http://CAMET_HOST:CAMET_API_PORT)")
    p.add_argument("--key-file", default=None,
                   help=f"file holding the ingest key (default var/{DEMO_KEY_FILE})")
    p.add_argument("--plant", default=str(DEMO_PLANT), help="plant YAML with the lines to simulate")
    p.add_argument("--lines", default="", help="comma-separated line codes (default: all)")
    p.add_argument("--pause-line", action="append", default=[], help="start with this line paused")
    p.add_argument("--control-file", default=None, help=f"paused line codes (default var/{PAUSE_FILE})")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between batches (default 2)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: time based)")
    p.set_defaults(handler=simulate_cmd)


def read_paused(path: Path) -> set[str]:
    """Line codes listed in the control file (missing file: none)."""
    try:
        return {ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()}
    except OSError:
        return set()


def run(sim: PlantSimulator, client: GatewayClient, *, interval_s: float, stop: threading.Event,
        control_file: Path | None = None, fixed_paused: set[str] = frozenset()) -> int:
    """Tick until `stop` is set; returns rows inserted."""
    total = 0
    while not stop.is_set():
        if control_file is not None:
            sim.paused = set(fixed_paused) | read_paused(control_file)
        batch = sim.collect()
        if batch:
            total += client.post(batch)
        stop.wait(interval_s)
    return total


def simulate_cmd(args: argparse.Namespace) -> int:
    """Run until Ctrl-C or SIGTERM."""
    rt = runtime(args)
    settings = rt.settings
    key_path = Path(args.key_file) if args.key_file else settings.var_dir / DEMO_KEY_FILE
    try:
        key = key_path.read_text(encoding="utf-8").strip()
    except OSError:
        fail(f"cannot read the ingest key from {key_path} (run `manage.py seed-demo` or create-ingest-key)")
    if args.interval <= 0:
        fail("--interval must be positive")
    plant = parse_plant(Path(args.plant).read_text(encoding="utf-8"))
    only = [c.strip() for c in args.lines.split(",") if c.strip()]
    sim = PlantSimulator.from_plant(plant, rt.clock, only=only,
                                    seed=args.seed if args.seed is not None else int(time.time()))
    if not sim.lines:
        fail("no line to simulate (check --lines and the plant file)")
    url = args.url or f"http://{settings.host}:{settings.api_port}"
    control = Path(args.control_file) if args.control_file else settings.var_dir / PAUSE_FILE
    client = GatewayClient(url, key)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"simulating lines {', '.join(sim.lines)} into {url} every {args.interval:g}s "
          f"(pause a line: write its code into {control}); pid {os.getpid()}", flush=True)
    try:
        total = run(sim, client, interval_s=args.interval, stop=stop, control_file=control,
                    fixed_paused=set(args.pause_line))
    except KeyboardInterrupt:
        total = 0
    finally:
        client.close()
    print(f"simulator stopped ({total:,} rows inserted)", flush=True)
    return 0
