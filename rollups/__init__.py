"""The rollups room: how `rollups` and `rollups_hourly` are built from the raw detections.

    rebuild.py  rebuild_rollups: one line's 5-minute rollups of a range, in SQL
    job.py      the rollup run: watermark + dirty marks → `rollups` (incremental, idempotent)

The rows' shape is shared with every writer and reader, so it stays in core/: the grain and
histogram bins (core/rollup_grain.py), their SQL (core/rollup_sql.py) and the writers' dirty
marks (core/rollups_state.py). The dashboard's read of the rollups is query/rollup_read.py.
"""
