"""The stops room: the `stops` table derived from the detections, and the reasons given to stops.

    analysis.py  the stoppage rules, pure: one line's detection times → stop and micro-stop rows
    job.py       the gap-analysis run: watermark + dirty dates → `stops` (incremental, idempotent)
    reasons.py   reason labels of stops: read, replace, and downtime minutes by reason

Writers of detections, thresholds and calendars mark dates dirty through core/stops_state.py
(every writer may use core/), and the job folds those marks in.
"""
