"""Every installed reader returns the same frame for the same query, and enforces the guards."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pandas as pd
import pytest

from core.errors import QueryTimeout, TooManyRows
from query.columns import MASTER_COLUMNS
from query.master_frame import build_master_frame
from query.readers import available_readers, read_with_fallback, select_reader
from query.spec import SqlFragment
from tests.query_support import (
    END,
    START,
    BrokenDriverReader,
    assert_matches,
    expected_frame,
    load_rows,
    read_context,
    slow_predicate,
)


@pytest.fixture
def loaded(runtime, plant_tenant):
    return load_rows(runtime, plant_tenant)


def reader_names(backend: str) -> list[str]:
    return [r.name for r in available_readers(backend)]


def test_fallback_reader_is_always_there(backend):
    names = reader_names(backend)
    assert ("pymysql" if backend == "mysql" else "sqlite") in names
    assert select_reader(backend).name == names[0]
    with pytest.raises(ValueError, match="not available"):
        select_reader(backend, "no-such-reader")


QUERIES = {
    "one line, one month": lambda ids: [
        SqlFragment(line_ids=frozenset({ids["L1"]})),
        SqlFragment(time_range=(datetime(2026, 11, 1), datetime(2026, 11, 2, 12))),
    ],
    "three lines across months, predicates": lambda ids: [
        SqlFragment(time_range=(datetime(2026, 10, 30, 18), datetime(2026, 11, 1, 9))),
        SqlFragment(predicate=lambda t: t.c.weight_g.is_(None) | (t.c.weight_g > 50.0)),
        SqlFragment(predicate=lambda t: t.c.product_id.in_([1, 2, 3, 6, 7, 10, 11, 12])),
    ],
    "nothing matches": lambda ids: [
        SqlFragment(time_range=(datetime(2025, 1, 1), datetime(2025, 1, 2))),
    ],
}


@pytest.mark.parametrize("label", list(QUERIES))
def test_all_readers_give_identical_frames(runtime, plant_tenant, loaded, backend, label):
    frags = QUERIES[label](loaded)
    frames = {}
    for name in reader_names(backend):
        master = build_master_frame(runtime, plant_tenant, frags, set(MASTER_COLUMNS), reader=name)
        assert master.reader == name
        frames[name] = master.frame
    first_name, first = next(iter(frames.items()))
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, first, check_exact=True, obj=f"{name} vs {first_name}")
    window = next(f.time_range for f in frags if f.time_range)
    if label == "three lines across months, predicates":
        where = ("AND (d.weight_g IS NULL OR d.weight_g > 50.0) "
                 "AND d.product_id IN (1, 2, 3, 6, 7, 10, 11, 12)")
        expected = expected_frame(runtime, plant_tenant, sorted(loaded.values()), *window, where)
    else:
        lines = sorted({loaded["L1"]} if label == "one line, one month" else loaded.values())
        expected = expected_frame(runtime, plant_tenant, lines, *window)
    assert_matches(first, expected)


def test_every_reader_stops_past_max_rows(runtime, plant_tenant, loaded, backend):
    frags = [SqlFragment(time_range=(START, END))]
    for name in reader_names(backend):
        ctx = read_context(runtime, plant_tenant, loaded, frags, max_rows=1000)
        with pytest.raises(TooManyRows):
            select_reader(backend, name).read(ctx)
        ctx = read_context(runtime, plant_tenant, loaded, frags)
        assert select_reader(backend, name).read(ctx).rows > 1000


def test_every_reader_cancels_a_slow_query(runtime, plant_tenant, loaded, backend):
    frags = [SqlFragment(time_range=(START, END)), SqlFragment(predicate=slow_predicate(backend))]
    for name in reader_names(backend):
        ctx = read_context(runtime, plant_tenant, loaded, frags, timeout_s=0.3)
        with pytest.raises(QueryTimeout):
            select_reader(backend, name).read(ctx)


def test_budget_check_counts_before_reading(runtime, plant_tenant, loaded, backend):
    rt = replace(runtime, settings=runtime.settings.model_copy(update={"max_rows": 500}))
    with pytest.raises(TooManyRows) as err:
        build_master_frame(rt, plant_tenant, [SqlFragment(time_range=(START, END))], {"ts"})
    if backend == "mysql":
        # The planner's estimate triggered an exact COUNT, so the message carries the real total.
        total = sum(len(expected_frame(runtime, plant_tenant, [i], START, END)) for i in loaded.values())
        assert err.value.details["rows"] == total


def test_failing_reader_falls_back_to_the_next(runtime, plant_tenant, loaded, backend):
    frags = [SqlFragment(time_range=(datetime(2026, 11, 1), datetime(2026, 11, 2)))]
    fallback = available_readers(backend)[-1]
    ctx = read_context(runtime, plant_tenant, loaded, frags)
    failures = runtime.query_state.failures
    result, used = read_with_fallback([BrokenDriverReader, fallback], ctx, key=f"test-{backend}",
                                      failures=failures)
    assert used == fallback.name and result.rows > 0
    # Skipped for a while afterwards, without trying it again.
    result2, used2 = read_with_fallback([BrokenDriverReader, fallback], ctx, key=f"test-{backend}",
                                        failures=failures)
    assert used2 == fallback.name and result2.rows == result.rows
    with pytest.raises(RuntimeError, match="authentication"):
        read_with_fallback([BrokenDriverReader], ctx, key=f"other-{backend}", failures=failures)


def test_budget_counts_with_the_predicates(runtime, plant_tenant, loaded, backend):
    rt = replace(runtime, settings=runtime.settings.model_copy(update={"max_rows": 500}))
    frags = [SqlFragment(time_range=(START, END)), SqlFragment(predicate=lambda t: t.c.status == 1)]
    master = build_master_frame(rt, plant_tenant, frags, {"ts", "is_reject"})
    expected = sum(len(expected_frame(runtime, plant_tenant, [i], START, END, "AND d.status = 1"))
                   for i in loaded.values())
    assert master.rows == expected and 100 < expected <= 500  # the window alone holds > 500
    assert master.frame.is_reject.all()
