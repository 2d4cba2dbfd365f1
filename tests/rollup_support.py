"""Shared pieces of the rollup tests: detections to insert, and rollups recomputed from raw rows.

The recomputation reads the detections with a plain SELECT and aggregates them in Python with
`floor_to_grain` and `hist_bin`, independently of the SQL the job runs. Weights are multiples
of 1/8 g, exact in MySQL's FLOAT and in their text form, so both sides see the same numbers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from core import schema_tenant as t
from core.rollup_grain import HIST_BINS, floor_to_grain, hist_bin
from core.runtime import Runtime
from ingest.bulk_load import insert_detections

FLOAT_COLUMNS = ("weight_sum_g", "weight_sumsq_g2", "giveaway_sum_g")


def frame_of(rows: list[tuple[datetime, int, float | None, int]]) -> pd.DataFrame:
    """Detections (ts, product_id, weight_g, status) with seq numbering equal timestamps."""
    frame = pd.DataFrame(rows, columns=["ts", "product_id", "weight_g", "status"])
    frame["ts"] = pd.to_datetime(frame["ts"])
    frame["weight_g"] = frame["weight_g"].astype("float64")
    frame["seq"] = frame.groupby("ts").cumcount()
    return frame


def random_rows(rng: np.random.Generator, start: datetime, hours: float, n: int,
                products: dict[int, float]) -> list[tuple[datetime, int, float | None, int]]:
    """n detections over `hours` from `start`: weights within ±15 % of nominal in 1/8 g, some
    unweighed, some rejects, one product without a `products` row (id 999_999)."""
    ids = [*products, 999_999]
    rows = []
    for _ in range(n):
        ts = start + timedelta(milliseconds=int(rng.integers(0, int(hours * 3600e3))))
        pid = int(rng.choice(ids))
        nominal = products.get(pid, 100.0)
        weight = None if rng.random() < 0.1 else round(nominal * rng.uniform(0.85, 1.15) * 8) / 8
        rows.append((ts, pid, weight, int(rng.random() < 0.15)))
    return rows


def insert_rows(rt: Runtime, slug: str, line_id: int, rows: list[tuple]) -> int:
    """Insert detections through the bulk loader the imports use."""
    with rt.db.tenant(slug) as conn:
        return insert_detections(conn, line_id, frame_of(rows))


def expected_rollups(rt: Runtime, slug: str, line_id: int, start: datetime,
                     end: datetime) -> dict[tuple, dict]:
    """(bucket, product, status) → rollup values, from the raw rows of [start, end)."""
    d = t.detections_table(line_id)
    with rt.db.tenant(slug) as conn:
        raw = conn.execute(select(d.c.ts, d.c.product_id, d.c.status, d.c.weight_g)
                           .where(d.c.ts >= start, d.c.ts < end)).all()
        nominal = dict(conn.execute(select(t.products.c.id, t.products.c.nominal_weight_g)).all())
    out: dict[tuple, dict] = defaultdict(lambda: {
        "units": 0, "weight_n": 0, "weight_sum_g": 0.0, "weight_sumsq_g2": 0.0, "weight_min_g": None,
        "weight_max_g": None, "under_nominal_n": 0, "giveaway_sum_g": 0.0, "hist": [0] * HIST_BINS})
    for ts, pid, status, weight in raw:
        row = out[(floor_to_grain(ts), pid, status)]
        row["units"] += 1
        if weight is None:
            continue
        row["weight_n"] += 1
        row["weight_sum_g"] += weight
        row["weight_sumsq_g2"] += weight * weight
        row["weight_min_g"] = weight if row["weight_min_g"] is None else min(row["weight_min_g"], weight)
        row["weight_max_g"] = weight if row["weight_max_g"] is None else max(row["weight_max_g"], weight)
        if pid in nominal:
            row["under_nominal_n"] += weight < nominal[pid]
            row["giveaway_sum_g"] += max(weight - nominal[pid], 0.0)
            row["hist"][hist_bin(weight, nominal[pid])] += 1
    return dict(out)


def stored_rollups(rt: Runtime, slug: str, line_id: int) -> dict[tuple, dict]:
    """The rollup rows of one line, keyed like expected_rollups, with `hist` parsed."""
    r = t.rollups.c
    with rt.db.tenant(slug) as conn:
        rows = conn.execute(select(t.rollups).where(r.line_id == line_id)).mappings().all()
    out = {}
    for row in rows:
        values = {k: row[k] for k in row if k not in ("line_id", "bucket_start", "product_id", "status")}
        values["hist"] = json.loads(values["hist"])
        out[(row["bucket_start"], row["product_id"], row["status"])] = values
    return out


def assert_same_rollups(got: dict[tuple, dict], want: dict[tuple, dict]) -> None:
    """Equal keys and values; float sums to 1e-9 relative (their addition order differs)."""
    assert sorted(got) == sorted(want)
    for key, expected in want.items():
        actual = got[key]
        for name, value in expected.items():
            if name in FLOAT_COLUMNS:
                assert abs(actual[name] - value) <= 1e-9 * max(1.0, abs(value)), (key, name)
            else:
                assert actual[name] == value, (key, name, actual[name], value)


def assert_hourly_sums_the_five_minute_rows(rt: Runtime, slug: str, line_id: int) -> int:
    """Every hourly-tier row equals the sum of the 5-minute rows of its hour; returns the rows."""
    five = stored_rollups(rt, slug, line_id)
    want: dict[tuple, dict] = {}
    for (bucket, pid, status), row in five.items():
        key = (bucket.replace(minute=0), pid, status)
        acc = want.setdefault(key, {k: None if k in ("weight_min_g", "weight_max_g") else 0
                                    for k in HOURLY_MEASURES})
        for k in HOURLY_MEASURES:
            v = row[k]
            if k == "weight_min_g":
                acc[k] = v if acc[k] is None else (acc[k] if v is None else min(acc[k], v))
            elif k == "weight_max_g":
                acc[k] = v if acc[k] is None else (acc[k] if v is None else max(acc[k], v))
            else:
                acc[k] += v
    h = t.rollups_hourly.c
    with rt.db.tenant(slug) as conn:
        rows = conn.execute(select(h.bucket_start, h.product_id, h.status, *[h[k] for k in HOURLY_MEASURES])
                            .where(h.line_id == line_id)).all()
    got = {(r[0], r[1], r[2]): dict(zip(HOURLY_MEASURES, r[3:], strict=True)) for r in rows}
    assert got.keys() == want.keys()
    for key, row in got.items():
        for k in HOURLY_MEASURES:
            expected = want[key][k]
            same = row[k] is None if expected is None else row[k] == pytest.approx(expected, rel=1e-12)
            assert same, (key, k, row[k], expected)
    return len(got)


HOURLY_MEASURES = ("units", "weight_n", "weight_sum_g", "weight_sumsq_g2", "weight_min_g", "weight_max_g",
                   "under_nominal_n", "giveaway_sum_g")
