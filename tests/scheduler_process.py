"""A web process for the scheduler tests: serves one request (which starts the scheduler), then
prints whether it leads, every 0.2 s. Usage: python -m tests.scheduler_process CENTRAL_URL VAR_DIR"""

from __future__ import annotations

import sys
import time

from fastapi.testclient import TestClient

from app_fastapi.main import create_app
from core.runtime import build_runtime
from core.settings import load_settings


def main() -> None:
    settings = load_settings(env="test", central_db_url=sys.argv[1], var_dir=sys.argv[2], jobs="on",
                             jobs_tick_s=0.3, jobs_lease_s=2, secret_key="s" * 40, jwt_secret="j" * 40)
    rt = build_runtime(settings)
    app = create_app(rt)
    TestClient(app).get("/api/v1/health")
    while True:
        leads = rt.scheduler is not None and rt.scheduler.leader.is_leader
        print("leader" if leads else "follower", flush=True)
        time.sleep(0.2)


if __name__ == "__main__":
    main()
