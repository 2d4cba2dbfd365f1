"""Run every benchmark with its defaults, one after the other (`make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = tuple(sorted(p.name for p in HERE.glob("bench_*.py")))
"""Every bench_*.py here, so a new benchmark joins `make bench` by being added (long: the scale,
planner and load benchmarks take minutes each)."""


def main() -> int:
    failed = []
    for name in SCRIPTS:
        print(f"\n===== {name} =====", flush=True)
        if subprocess.run([sys.executable, str(HERE / name)], check=False).returncode != 0:  # noqa: S603
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
