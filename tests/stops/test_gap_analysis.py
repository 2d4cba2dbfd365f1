"""Each rule of the stoppage algorithm (README "Stoppages"), on the pure function."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from core.metadata_cache import ClosedDay, Line, Shift, ShiftBreak, TenantMeta
from core.shift_calendar import shift_instances
from stops.analysis import analyse_line
from tests import stops_dataset as ds

DAY = date(2026, 11, 17)  # a Tuesday
SHIFTS = {
    1: Shift(1, "manana", "Mañana", time(6), time(14), (ShiftBreak("R", time(10), time(10, 20)),)),
    2: Shift(2, "tarde", "Tarde", time(14), time(22), (ShiftBreak("R", time(18), time(18, 20)),)),
    3: Shift(3, "noche", "Noche", time(22), time(6), (ShiftBreak("R", time(2), time(2, 20)),),
             frozenset(range(1, 7))),
}


def _meta(closed: tuple[ClosedDay, ...] = ()) -> TenantMeta:
    return TenantMeta("x", "UTC", 1, lines={1: Line(1, "L", "L", 1, 6, 15, 120)}, shifts=SHIFTS,
                      closed_days=closed)


def _run(times: list[str], *, first: date = DAY, last: date = DAY, now: datetime | None = None,
         more_after: bool = True, meta: TenantMeta | None = None) -> pd.DataFrame:
    ts = np.array([np.datetime64(t) for t in times], dtype="datetime64[ms]")
    return analyse_line(ts, shift_instances(meta or _meta(), 1, first, last), micro_stop_s=15,
                        stop_threshold_s=120, now=now, more_after=more_after)


def test_short_gaps_are_running_and_micro_stop_bounds_are_exclusive_then_inclusive():
    out = _run(["2026-11-17T07:00:00", "2026-11-17T07:00:15",  # 15 s: running (not > 15)
                "2026-11-17T07:00:31",                          # 16 s: micro
                "2026-11-17T07:02:31",                          # 120 s: micro (≤ threshold)
                "2026-11-17T07:04:31.001"])                     # 120.001 s: stop
    assert list(out["kind"]) == ["micro", "micro", "stop"]
    assert list(out["downtime_s"]) == [0.0, 0.0, 120.001]


def test_stop_inside_a_break_has_no_row_and_a_stop_overlapping_it_counts_only_planned_time():
    inside = _run(["2026-11-17T10:02:00", "2026-11-17T10:12:00"])
    assert inside.empty
    over = _run(["2026-11-17T09:50:00", "2026-11-17T10:30:00"])
    assert list(over["downtime_s"]) == [1200.0]  # 09:50-10:00 and 10:20-10:30
    assert (over["start_ts"][0], over["end_ts"][0]) == (pd.Timestamp("2026-11-17 09:50"),
                                                       pd.Timestamp("2026-11-17 10:30"))


def test_a_stop_across_a_shift_boundary_is_one_stop_in_each_instance():
    out = _run(["2026-11-17T13:50:00", "2026-11-17T14:10:00"])
    assert list(zip(out["shift_id"], out["downtime_s"], strict=True)) == [(1, 600.0), (2, 600.0)]
    assert out["start_ts"][1] == pd.Timestamp("2026-11-17 14:00")


def test_micro_stop_counts_where_it_starts_and_outside_every_shift_not_at_all():
    out = _run(["2026-11-17T13:59:30", "2026-11-17T14:00:30"])
    assert list(zip(out["kind"], out["shift_id"], strict=True)) == [("micro", 1)]


def test_non_working_day_and_closed_day_add_no_downtime():
    sunday = date(2026, 11, 22)
    out = _run(["2026-11-22T07:00:00", "2026-11-22T12:00:00"], first=sunday, last=sunday)
    assert list(out["shift_id"]) == [1]  # Mañana works on Sundays in this calendar
    closed = _meta((ClosedDay(sunday, None, "Feriado"),))
    assert _run(["2026-11-22T07:00:00", "2026-11-22T12:00:00"], first=sunday, last=sunday,
                meta=closed).empty
    night = _run(["2026-11-22T23:00:00", "2026-11-23T01:00:00"], first=sunday, last=sunday)
    assert night[night["shift_id"] == 3].empty  # no Sunday night


def test_an_idle_whole_shift_is_all_downtime():
    out = _run(["2026-11-17T05:00:00", "2026-11-17T14:00:00"], first=DAY - timedelta(days=1))
    morning = out[(out["shift_id"] == 1) & (out["production_date"] == DAY)]
    assert list(morning["downtime_s"]) == [27600.0]


def test_open_stop_counts_up_to_now_and_never_past_planned_time():
    out = _run(["2026-11-17T09:00:00"], now=datetime(2026, 11, 17, 11, 0), more_after=False)
    assert list(out["downtime_s"]) == [2 * 3600 - 1200.0] and bool(out["is_open"][0])
    assert out["end_ts"][0] == pd.Timestamp("2026-11-17 11:00")
    not_yet = _run(["2026-11-17T09:00:00"], now=datetime(2026, 11, 17, 9, 2), more_after=False)
    assert not_yet.empty  # 120 s is not longer than the threshold
    later = _run(["2026-11-17T09:00:00"], now=datetime(2026, 11, 17, 11, 0), more_after=True)
    assert later.empty  # a later detection exists beyond the slice: not open here


def test_nothing_before_the_first_detection():
    out = _run(["2026-11-17T12:00:00", "2026-11-17T12:00:10"])
    assert out.empty


def test_the_issue_dataset_per_instance():
    frame = ds.detections()
    meta = _meta()
    out = analyse_line(frame["ts"].to_numpy(), shift_instances(meta, 1, ds.D, ds.D1), micro_stop_s=15,
                       stop_threshold_s=120, now=ds.NOW)
    code = {s.id: s.code for s in SHIFTS.values()}
    for (day, shift), want in ds.EXPECTED.items():
        rows = out[(out["production_date"] == day) & (out["shift_id"].map(code) == shift)]
        stops = rows[rows["kind"] == "stop"]
        assert (len(stops), int((rows["kind"] == "micro").sum())) == (want["stops"], want["micro_stops"])
        assert stops["downtime_s"].sum() == want["downtime_s"], (day, shift)
        assert bool(rows["is_open"].any()) == want["open"]
