"""Plant time cut to minutes of the day: instance pieces, stop parts, and scopes combined."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from core.shift_calendar import ShiftInstance
from query.plant_time import day_spans, kept_pieces, kept_stop
from query.spec import PlantScope

NIGHT = ShiftInstance(date(2026, 1, 5), 3, datetime(2026, 1, 5, 22), datetime(2026, 1, 6, 6),
                      ((datetime(2026, 1, 5, 22), datetime(2026, 1, 6, 2)),
                       (datetime(2026, 1, 6, 2, 20), datetime(2026, 1, 6, 6))))
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # pure functions


def test_a_range_over_midnight_is_one_piece_of_a_night_shift(backend):
    pieces = kept_pieces(NIGHT, ((0, 180), (1380, 1440)))  # 23:00 → 03:00
    assert [(p.start, p.end) for p in pieces] == [(datetime(2026, 1, 5, 23), datetime(2026, 1, 6, 3))]
    assert pieces[0].planned == ((datetime(2026, 1, 5, 23), datetime(2026, 1, 6, 2)),
                                 (datetime(2026, 1, 6, 2, 20), datetime(2026, 1, 6, 3)))
    assert pieces[0].planned_s == 4 * 3600 - 20 * 60
    assert (pieces[0].production_date, pieces[0].shift_id) == (NIGHT.production_date, NIGHT.shift_id)


def test_no_restriction_keeps_the_instance_and_disjoint_hours_make_several_pieces(backend):
    assert kept_pieces(NIGHT, None) == [NIGHT]
    assert kept_pieces(NIGHT, ((480, 720),)) == []
    pieces = kept_pieces(NIGHT, ((60, 120), (1320, 1380)))
    assert [(p.start.hour, p.end.hour) for p in pieces] == [(22, 23), (1, 2)]
    assert day_spans(datetime(2026, 1, 5, 22), datetime(2026, 1, 6, 6), ((0, 1440),)) == [
        (datetime(2026, 1, 5, 22), datetime(2026, 1, 6, 6))]


def test_a_stop_keeps_only_its_planned_part_inside_the_hours(backend):
    pieces = kept_pieces(NIGHT, ((0, 180),))  # 00:00 → 03:00 of the night
    start, end = datetime(2026, 1, 5, 23, 30), datetime(2026, 1, 6, 2, 30)
    downtime, first, last = kept_stop("stop", start, end, 9000.0, pieces)
    assert downtime == 2 * 3600 + 10 * 60  # 00:00-02:00 and 02:20-02:30; the break is no downtime
    assert (first, last) == (datetime(2026, 1, 6, 0), end)
    assert kept_stop("stop", datetime(2026, 1, 5, 22), datetime(2026, 1, 5, 23), 3600.0, pieces) is None
    inside_break = kept_stop("stop", datetime(2026, 1, 6, 2, 1), datetime(2026, 1, 6, 2, 19), 0.0, pieces)
    assert inside_break is None
    assert kept_stop("micro", datetime(2026, 1, 6, 1), datetime(2026, 1, 6, 1, 1), 0.0, pieces) is not None
    assert kept_stop("micro", datetime(2026, 1, 5, 23, 59, 50), datetime(2026, 1, 6, 0, 0, 30), 0.0,
                     pieces) is None  # a micro-stop belongs where it starts


def test_scopes_combine_with_and(backend):
    shifts = PlantScope(shift_ids=frozenset({1, 2}))
    hours = PlantScope(day_minutes=((0, 60), (1320, 1440)))
    assert (PlantScope() & shifts) == shifts and (hours & PlantScope()) == hours
    both = shifts & hours & PlantScope(shift_ids=frozenset({2, 3}), day_minutes=((30, 1350),))
    assert both == PlantScope(frozenset({2}), ((30, 60), (1320, 1350)))
