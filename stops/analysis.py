"""The stoppage algorithm: one line's detection timestamps → stop and micro-stop rows.

Pure and vectorised (numpy over the gaps; Python loops only per stop and per shift instance).
The rules are the contract documented in README.md ("Stoppages"):
- a gap is the time between two consecutive detections; strictly longer than
  `stop_threshold_s` it is a stop, longer than `micro_stop_s` and up to `stop_threshold_s`
  (inclusive) a micro-stop, otherwise running;
- a stop's downtime is the part of the gap inside planned time; it yields one row per shift
  instance whose planned time it touches (start/end clipped to that instance's window);
- a micro-stop yields one row (no downtime) in the instance whose window holds its start;
- with no later detection, the gap from the last detection to `now` is an open stop once it is
  longer than the threshold, its downtime counted up to `now`;
- nothing is reported before the first detection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from core.shift_calendar import ShiftInstance

US = np.timedelta64(1, "us")
COLUMNS = ("kind", "start_ts", "end_ts", "downtime_s", "production_date", "shift_id", "is_open")
STOP, MICRO = "stop", "micro"


def _us(values: np.ndarray | datetime) -> np.ndarray:
    """Timestamps as int64 microseconds (naive local time)."""
    return np.asarray(values, dtype="datetime64[us]").astype(np.int64)


def _planned_arrays(instances: Sequence[ShiftInstance]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    starts, ends, owner = [], [], []
    for i, inst in enumerate(instances):
        for s, e in inst.planned:
            starts.append(s)
            ends.append(e)
            owner.append(i)
    return _us(np.array(starts, dtype="datetime64[us]")), _us(np.array(ends, dtype="datetime64[us]")), \
        np.asarray(owner, dtype=np.int64)


def analyse_line(ts: np.ndarray, instances: Sequence[ShiftInstance], *, micro_stop_s: float,
                 stop_threshold_s: float, now: datetime | None = None,
                 more_after: bool = False) -> pd.DataFrame:
    """Stop pieces and micro-stops of one line over `instances` (time-ordered, disjoint).

    `ts` are the line's detection times, sorted, covering the instances plus the detection just
    before and just after them; `more_after` says a later detection exists beyond `ts` (then the
    last gap is not open). `now` (naive plant time) bounds an open stop.
    """
    t = _us(ts)
    if len(t) == 0:
        return _frame([])
    return analyse_gaps(t[:-1], t[1:], int(t[-1]), instances, micro_stop_s=micro_stop_s,
                        stop_threshold_s=stop_threshold_s, now=now, more_after=more_after)


def analyse_gaps(g_start: np.ndarray, g_end: np.ndarray, last: int, instances: Sequence[ShiftInstance], *,
                 micro_stop_s: float, stop_threshold_s: float, now: datetime | None = None,
                 more_after: bool = False) -> pd.DataFrame:
    """Same as `analyse_line` from the gaps themselves (int64 µs bounds; gaps no longer than
    `micro_stop_s` may be left out) and the last detection time `last`."""
    if not instances:
        return _frame([])
    g_start, g_end = np.asarray(g_start, dtype=np.int64), np.asarray(g_end, dtype=np.int64)
    length_s = (g_end - g_start) / 1e6
    is_open = np.zeros(len(g_start), dtype=bool)
    if not more_after and now is not None:
        now_us = int(_us(now))
        if (now_us - last) / 1e6 > stop_threshold_s:
            g_start, g_end = np.append(g_start, last), np.append(g_end, now_us)
            length_s = np.append(length_s, (now_us - last) / 1e6)
            is_open = np.append(is_open, True)
    win_start = _us(np.array([i.start for i in instances], dtype="datetime64[us]"))
    win_end = _us(np.array([i.end for i in instances], dtype="datetime64[us]"))
    rows: list[tuple] = []
    micro = (length_s > micro_stop_s) & (length_s <= stop_threshold_s)
    rows += _micro_rows(g_start[micro], g_end[micro], instances, win_start, win_end)
    stop = length_s > stop_threshold_s
    rows += _stop_rows(g_start[stop], g_end[stop], is_open[stop], instances, win_start, win_end)
    return _frame(rows)


def _micro_rows(starts: np.ndarray, ends: np.ndarray, instances: Sequence[ShiftInstance],
                win_start: np.ndarray, win_end: np.ndarray) -> list[tuple]:
    idx = np.searchsorted(win_start, starts, side="right") - 1
    inside = (idx >= 0) & (starts < win_end[np.maximum(idx, 0)])
    out = []
    for s, e, i in zip(starts[inside], ends[inside], idx[inside], strict=True):
        inst = instances[int(i)]
        out.append((MICRO, int(s), int(e), 0.0, inst.production_date, inst.shift_id, False))
    return out


def _stop_rows(starts: np.ndarray, ends: np.ndarray, open_flags: np.ndarray,
               instances: Sequence[ShiftInstance], win_start: np.ndarray,
               win_end: np.ndarray) -> list[tuple]:
    p_start, p_end, p_owner = _planned_arrays(instances)
    if len(starts) == 0 or len(p_start) == 0:
        return []
    lo = np.searchsorted(p_end, starts, side="right")  # first planned interval ending after start
    hi = np.searchsorted(p_start, ends, side="left")  # planned intervals starting before end
    out = []
    for k in np.flatnonzero(hi > lo):  # one loop iteration per stop
        s, e = int(starts[k]), int(ends[k])
        span = slice(int(lo[k]), int(hi[k]))
        overlap = np.minimum(p_end[span], e) - np.maximum(p_start[span], s)
        owners = p_owner[span]
        for owner in np.unique(owners[overlap > 0]):
            inst = instances[int(owner)]
            downtime = float(overlap[(owners == owner) & (overlap > 0)].sum()) / 1e6
            piece_start = max(s, int(win_start[owner]))
            piece_end = min(e, int(win_end[owner]))
            out.append((STOP, piece_start, piece_end, downtime, inst.production_date, inst.shift_id,
                        bool(open_flags[k])))
    return out


def _frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for col in ("start_ts", "end_ts"):
        frame[col] = pd.to_datetime(frame[col].astype(np.int64), unit="us")
    frame["downtime_s"] = frame["downtime_s"].astype(float)
    return frame.sort_values("start_ts", kind="stable").reset_index(drop=True)
