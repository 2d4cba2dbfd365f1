"""Background jobs run by APScheduler inside the app, once across processes.

The work lives in the domains (rollups/, stops/, core/partition_upkeep.py); this package
schedules it, elects who runs it and records every run.

    registry.py    @job("name", every=...): the per-tenant jobs, by explicit id
    rollups.py     the rollups job (rollups/job.py)
    stops.py       the gap-analysis job: detections → `stops` (stops/job.py)
    partitions.py  the partitions job: monthly partitions ahead of the data, rows moved out of pmax
    runs.py        one recorded run (job_runs: start, end, status, rows, error) and what is due
    leader.py      which process starts due runs: MySQL GET_LOCK, or a lease row on SQLite
    run_lock.py    the lease of one (job, tenant) run, with its fencing token
    run_guard.py   fence(): a run's chunk commits only while no newer run of it has committed
    heartbeat.py   the daemon thread that renews leases and pings the leader's connection
    scheduler.py   the APScheduler tick, started lazily by the first request of a process

Importing the package registers the jobs (the list below is trusted configuration).
"""

from jobs import partitions, rollups, stops  # noqa: F401  (registration)
