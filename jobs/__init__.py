"""Background jobs run by APScheduler inside the app, once across processes.

    registry.py    @job("name", every=...): the per-tenant jobs, by explicit id
    partitions_job.py  monthly partitions ahead of the data, rows moved out of pmax
    runs.py        one recorded run (job_runs: start, end, status, rows, error) and what is due
    leader.py      which process starts due runs: MySQL GET_LOCK, or a lease row on SQLite
    run_lock.py    the lease of one (job, tenant) run, with its fencing token
    run_guard.py   checkpoint(conn): a job's chunk commits only while its run holds the lock
    heartbeat.py   the daemon thread that renews leases and pings the leader's connection
    scheduler.py   the APScheduler tick, started lazily by the first request of a process

Importing the package registers the jobs (the list below is trusted configuration).
"""

from jobs import partitions_job  # noqa: F401  (registration)
from rollups import job as _rollups  # noqa: F401  (registration)
from stops import job as _stops  # noqa: F401  (registration)
