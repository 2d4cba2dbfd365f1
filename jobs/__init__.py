"""Background jobs run by APScheduler inside the app, once across processes.

Gap analysis (stoppage detection into `stops`) and partition maintenance (creating next months'
partitions ahead of time) are scheduled here; the central `job_locks`/`job_runs` tables make
one process run each job. Until the scheduler lands, `manage.py seed-demo`, `create-tenant` and
`import-detections` create the partitions they need (core/detection_tables.py).
"""
