"""A hand-made stoppage dataset and its hand-computed results (the stop rules of README.md).

Line T1 (ideal 6/min: 10 s cycle; micro-stop > 15 s, stop > 120 s) on the demo shifts
(Mañana 06-14, break 10:00-10:20; Tarde 14-22, break 18:00-18:20; Noche 22-06, break
02:00-02:20; Monday to Saturday). It detects a unit every 10 s from Tue 17 Nov 2026 06:00:00
to Wed 18 Nov 14:30:00, except strictly inside the gaps below; one reject on the half hour.
The clock stands at Wed 18 Nov 15:30 plant time (tests/helpers.py ORDINARY_NOW).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

D = date(2026, 11, 17)
D1 = date(2026, 11, 18)
NOW = datetime(2026, 11, 18, 15, 30)
FIRST = datetime(2026, 11, 17, 6, 0)
LAST = datetime(2026, 11, 18, 14, 30)


def at(day: date, hhmmss: str) -> datetime:
    return datetime.combine(day, datetime.strptime(hhmmss, "%H:%M:%S").time())


GAPS = [
    (at(D, "07:00:00"), at(D, "07:01:00")),    # 60 s: micro-stop
    (at(D, "08:00:00"), at(D, "08:02:00")),    # exactly the threshold (120 s): micro-stop
    (at(D, "10:02:00"), at(D, "10:12:00")),    # inside the 10:00-10:20 break: no downtime
    (at(D, "13:50:00"), at(D, "14:10:00")),    # across 14:00: 600 s in each shift
    (at(D, "21:45:00"), at(D, "22:15:00")),    # across 22:00: 900 s in each shift
    (at(D1, "00:30:00"), at(D1, "01:00:00")),  # night shift after midnight: 1800 s
    (at(D1, "05:59:50"), at(D1, "14:00:00")),  # idle whole Mañana (and 10 s of Noche)
]                                              # then an open stop from 14:30:00 to 15:30

PLANT_YAML = """
areas: [{code: A, name: Área}]
lines:
  - {code: T1, name: Línea de prueba, area: A, ideal_rate_per_min: 6, micro_stop_s: 15, stop_threshold_s: 120}
products: [{code: P1, name: Producto, nominal_weight_g: 100, lines: [T1]}]
shifts:
  - {code: manana, name: Mañana, start: "06:00", end: "14:00", weekdays: [1, 2, 3, 4, 5, 6],
     breaks: [{name: Refrigerio, start: "10:00", end: "10:20"}]}
  - {code: tarde, name: Tarde, start: "14:00", end: "22:00", weekdays: [1, 2, 3, 4, 5, 6],
     breaks: [{name: Refrigerio, start: "18:00", end: "18:20"}]}
  - {code: noche, name: Noche, start: "22:00", end: "06:00", weekdays: [1, 2, 3, 4, 5, 6],
     breaks: [{name: Refrigerio, start: "02:00", end: "02:20"}]}
"""

# (production date, shift code) → hand-computed values (see the derivation in each comment).
EXPECTED = {
    # 2880 grid points in 8 h, minus 5 (micro), 11 (threshold gap), 59 (break stop), 59 (13:50)
    (D, "manana"): dict(planned_s=27600, downtime_s=600, stops=1, micro_stops=2, units=2746, good=2738,
                        open=False),
    # 2880 minus 60 (14:00:00-14:09:50) and 89 (21:45:10-21:59:50); downtime 600 + 900
    (D, "tarde"): dict(planned_s=27600, downtime_s=1500, stops=2, micro_stops=0, units=2731, good=2723,
                       open=False),
    # 2880 minus 90 (22:00:00-22:14:50) and 179 (00:30:10-00:59:50); downtime 900 + 1800 + 10
    (D, "noche"): dict(planned_s=27600, downtime_s=2710, stops=3, micro_stops=0, units=2611, good=2603,
                       open=False),
    (D1, "manana"): dict(planned_s=27600, downtime_s=27600, stops=1, micro_stops=0, units=0, good=0,
                         open=False),
    # planned so far 14:00-15:30; 181 units 14:00:00-14:30:00; open stop 14:30-15:30
    (D1, "tarde"): dict(planned_s=5400, downtime_s=3600, stops=1, micro_stops=0, units=181, good=180,
                        open=True),
}


def detections() -> pd.DataFrame:
    """The dataset's rows (ts, seq, product_id, weight_g, status); product id 1."""
    grid = np.arange(np.datetime64(FIRST, "s"), np.datetime64(LAST + timedelta(seconds=1), "s"),
                     np.timedelta64(10, "s"))
    keep = np.ones(len(grid), dtype=bool)
    for start, end in GAPS:
        keep &= ~((grid > np.datetime64(start, "s")) & (grid < np.datetime64(end, "s")))
    ts = pd.to_datetime(grid[keep]).astype("datetime64[ms]")
    reject = (ts.minute == 30) & (ts.second == 0)
    return pd.DataFrame({
        "ts": ts, "seq": 0, "product_id": 1, "weight_g": 100.0,
        "status": np.asarray(reject, dtype=np.int8),
    })


# kind, start, end, downtime, production date, shift code, open: derived by hand from GAPS
EXPECTED_ROWS = [
    ("micro", at(D, "07:00:00"), at(D, "07:01:00"), 0.0, D, "manana", False),
    ("micro", at(D, "08:00:00"), at(D, "08:02:00"), 0.0, D, "manana", False),
    ("stop", at(D, "13:50:00"), at(D, "14:00:00"), 600.0, D, "manana", False),
    ("stop", at(D, "14:00:00"), at(D, "14:10:00"), 600.0, D, "tarde", False),
    ("stop", at(D, "21:45:00"), at(D, "22:00:00"), 900.0, D, "tarde", False),
    ("stop", at(D, "22:00:00"), at(D, "22:15:00"), 900.0, D, "noche", False),
    ("stop", at(D1, "00:30:00"), at(D1, "01:00:00"), 1800.0, D, "noche", False),
    ("stop", at(D1, "05:59:50"), at(D1, "06:00:00"), 10.0, D, "noche", False),
    ("stop", at(D1, "06:00:00"), at(D1, "14:00:00"), 27600.0, D1, "manana", False),
    ("stop", at(D1, "14:30:00"), at(D1, "15:30:00"), 3600.0, D1, "tarde", True),
]
