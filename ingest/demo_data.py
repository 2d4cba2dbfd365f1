"""Deterministic synthetic detections for the demo plant.

Each line runs around the clock except on the calendar's days off (Sundays and closed days of the
demo plant: the whole production day from 06:00 to 06:00) and its shifts' planned breaks, at a little
under its ideal rate, with injected long stoppages and micro-stops, product campaigns of a few
hours, weights around nominal with noise and overfill, and rejects (underweight or random seal
defects). Everything is vectorised with numpy and seeded, so a given seed gives the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from core.metadata_cache import Line, TenantMeta

MS = np.timedelta64(1, "ms")


@dataclass(frozen=True)
class DemoPlan:
    start: datetime  # plant local, naive
    end: datetime
    seed: int = 42
    performance: float = 0.9  # running speed as a fraction of the ideal rate


def _merge(intervals: np.ndarray) -> np.ndarray:
    """Merge overlapping [start, end) intervals given as an (n, 2) float array of seconds."""
    if len(intervals) == 0:
        return intervals.reshape(0, 2)
    intervals = intervals[np.argsort(intervals[:, 0])]
    merged = [intervals[0].copy()]
    for s, e in intervals[1:]:
        if s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append(np.array([s, e]))
    return np.vstack(merged)


def _downtime(meta: TenantMeta, line: Line, plan: DemoPlan, rng: np.random.Generator) -> np.ndarray:
    """Seconds-from-start intervals when the line does not produce."""
    total = (plan.end - plan.start).total_seconds()
    out: list[tuple[float, float]] = []
    day = datetime(plan.start.year, plan.start.month, plan.start.day)
    while day < plan.end:
        base = (day - plan.start).total_seconds()
        if day.weekday() == 6 or meta.is_closed(line.id, day.date()):  # closed 06:00 → next 06:00
            out.append((base + 6 * 3600, base + 30 * 3600))
        for shift in meta.shifts.values():
            for brk in shift.breaks:
                s = brk.start.hour * 3600 + brk.start.minute * 60
                e = brk.end.hour * 3600 + brk.end.minute * 60
                out.append((base + s, base + e if e > s else base + e + 86400))
        day += timedelta(days=1)
    # Long stoppages: about one per shift, 5-90 minutes (log-normal around 15).
    n_long = rng.poisson(total / (8 * 3600))
    starts = rng.uniform(0, total, n_long)
    lengths = np.clip(rng.lognormal(np.log(900), 0.7, n_long), line.stop_threshold_s * 1.5, 5400)
    out += list(zip(starts, starts + lengths, strict=True))
    # Micro-stops: about five per hour, between the micro and the stop thresholds.
    n_micro = rng.poisson(total / 720)
    starts = rng.uniform(0, total, n_micro)
    lengths = rng.uniform(line.micro_stop_s * 1.2, line.stop_threshold_s * 0.9, n_micro)
    out += list(zip(starts, starts + lengths, strict=True))
    arr = np.array(out, dtype=float).reshape(-1, 2)
    arr = arr[(arr[:, 1] > 0) & (arr[:, 0] < total)]
    return _merge(np.clip(arr, 0, total))


def _running_to_wall(offsets: np.ndarray, down: np.ndarray) -> np.ndarray:
    """Map running-time offsets to wall-clock offsets by skipping the downtime intervals."""
    if len(down) == 0:
        return offsets
    lengths = down[:, 1] - down[:, 0]
    before = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    running_start = down[:, 0] - before  # running time at which each downtime begins
    idx = np.searchsorted(running_start, offsets, side="right")
    shift = np.concatenate([[0.0], np.cumsum(lengths)])[idx]
    return offsets + shift


def generate_line(meta: TenantMeta, line: Line, plan: DemoPlan, density: float = 1.0) -> pd.DataFrame:
    """All detections of one line for the plan's period, sorted by time (`density` scales the
    running speed, so a fixed row count can be spread over any period)."""
    rng = np.random.default_rng([plan.seed, line.id])
    total = (plan.end - plan.start).total_seconds()
    down = _downtime(meta, line, plan, rng)
    running = total - float((down[:, 1] - down[:, 0]).sum()) if len(down) else total
    mean_gap = 60.0 / (line.ideal_rate_per_min * plan.performance * density)
    n = int(running / mean_gap * 1.02) + 10
    gaps = mean_gap * rng.lognormal(-0.5 * 0.18**2, 0.18, n)
    offsets = np.cumsum(gaps)
    offsets = offsets[offsets < running]
    wall = _running_to_wall(offsets, down)
    products = sorted(p.id for p in meta.products.values() if line.id in p.line_ids) or sorted(meta.products)
    campaign_len = np.maximum(rng.exponential(5 * 3600, 4096), 2 * 3600)
    bounds = np.cumsum(campaign_len)
    campaign = np.minimum(np.searchsorted(bounds, offsets, side="right"), len(bounds) - 1)
    product_of_campaign = rng.choice(products, size=len(bounds))
    product_id = product_of_campaign[campaign].astype(np.int32)
    nominal = np.array([meta.products[int(p)].nominal_weight_g for p in product_of_campaign])[campaign]
    weight = nominal * (1.004 + 0.012 * rng.standard_normal(len(offsets)))
    reject = (weight < nominal * 0.975) | (rng.random(len(offsets)) < 0.008)
    ts = np.datetime64(plan.start, "ms") + (wall * 1000).astype("int64") * MS
    ts = _unique_ms(ts)
    return pd.DataFrame({
        "ts": ts,
        "seq": np.zeros(len(ts), dtype=np.int16),
        "product_id": product_id,
        "weight_g": np.round(weight, 1).astype(np.float32),
        "status": reject.astype(np.int8),
    })


def _unique_ms(ts: np.ndarray) -> np.ndarray:
    """Nudge equal timestamps forward by 1 ms so (ts, seq=0) stays unique."""
    ints = ts.astype("int64")
    fixed = np.maximum.accumulate(ints - np.arange(len(ints))) + np.arange(len(ints))
    return fixed.astype("datetime64[ms]")


EXACT_SLACK = 1.03
"""With `rows`, the density is tuned until the period holds between rows and rows × this; the
few extra rows are then dropped at random, so the stoppage pattern stays realistic."""


def _generate_all(meta: TenantMeta, plan: DemoPlan, density: float) -> dict[int, pd.DataFrame]:
    return {
        line.id: generate_line(meta, line, plan, density)
        for line in sorted(meta.lines.values(), key=lambda x: x.id)
        if line.active
    }


def generate(meta: TenantMeta, plan: DemoPlan, rows: int | None = None) -> dict[int, pd.DataFrame]:
    """Detections per active line; with `rows`, exactly that many, spread over the whole period."""
    density = 1.0
    frames = _generate_all(meta, plan, density)
    if rows is None:
        return frames
    total = sum(len(f) for f in frames.values())
    best = (total, frames) if total >= rows else None  # the smallest period that holds enough
    for _ in range(12):
        if rows <= total <= rows * EXACT_SLACK:
            break
        density *= (rows * (1 + EXACT_SLACK) / 2) / max(total, 1)
        frames = _generate_all(meta, plan, density)
        total = sum(len(f) for f in frames.values())
        if total >= rows and (best is None or total < best[0]):
            best = (total, frames)
    if best is None:
        raise ValueError(f"could not generate {rows:,} detections in the period (got {total:,})")
    total, frames = best
    return _drop_at_random(frames, total - rows, plan.seed)


def _drop_at_random(frames: dict[int, pd.DataFrame], extra: int, seed: int) -> dict[int, pd.DataFrame]:
    """Remove `extra` rows chosen uniformly over all lines (deterministic for a seed)."""
    if extra == 0:
        return frames
    sizes = [len(f) for f in frames.values()]
    drop = np.random.default_rng([seed, 7]).choice(sum(sizes), size=extra, replace=False)
    keep = np.ones(sum(sizes), dtype=bool)
    keep[drop] = False
    out: dict[int, pd.DataFrame] = {}
    offset = 0
    for (line_id, frame), size in zip(frames.items(), sizes, strict=True):
        out[line_id] = frame[keep[offset:offset + size]].reset_index(drop=True)
        offset += size
    return out


def estimate_rows_per_day(meta: TenantMeta, performance: float = 0.9) -> float:
    """Rough rows per day of the whole plant (for --rows → days)."""
    return sum(ln.ideal_rate_per_min * performance * 60 * 24 * 0.78
               for ln in meta.lines.values() if ln.active)
