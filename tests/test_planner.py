"""Exactness of the planner's paths: for generated filter sets over the demo plant, every need's
frame and every default widget's answer are the same whether the rows were grouped in pandas
(raw) or by a GROUP BY in the database (push-down), on SQLite and MariaDB."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app_fastapi.orchestrator import frame_need
from core.clock import plant_now
from core.errors import ValidationFailed
from filters import build_filter_set
from filters.defaults import DEFAULT_FILTER_ROWS
from query.grain import MEASURES, FrameNeed, regrain
from query.planner import choose_plan, read_grained
from query.pushdown import bucket_minutes
from tests.dashboard_support import DEMO_DAY_START, data_days, line_ids
from widgets import widget_registry
from widgets.base import CombinedData, WidgetContext
from widgets.defaults import DEFAULT_WIDGET_ROWS

WEIGHTS = frozenset(MEASURES)
EXTRA_NEEDS = [  # grains no default widget asks for: shifts, areas, weights per product, status
    FrameNeed(frozenset({"shift_code", "shift_date", "area_name"}), frozenset({"units"})),
    FrameNeed(frozenset({"product_code", "status"}), WEIGHTS),
    FrameNeed(frozenset({"hour_start", "production_day", "shift_id"}), WEIGHTS),
]


def default_widgets(context: WidgetContext) -> list[Any]:
    out = []
    for i, row in enumerate(DEFAULT_WIDGET_ROWS):
        widget = widget_registry.get(row["class_name"])(widget_id=i + 1, title=row["title"],
                                                        config=row["config"], context=context)
        if widget.columns() or widget.source_type == "internal":
            out.append(widget)
    return out


def sorted_frame(frame: pd.DataFrame, need: FrameNeed) -> pd.DataFrame:
    """The frame folded to one row per dimension tuple, in a canonical order."""
    folded = regrain(frame, need.columns, need.measures)
    dims = sorted(need.columns)
    if dims:
        folded = folded.astype({d: "object" for d in dims}).sort_values(dims, na_position="first")
    return folded.reset_index(drop=True)[need.output_columns()]


def assert_same_frames(raw: pd.DataFrame, pushed: pd.DataFrame, need: FrameNeed) -> None:
    a, b = sorted_frame(raw, need), sorted_frame(pushed, need)
    ints = [c for c in ("units", "weight_n") if c in a]
    pd.testing.assert_frame_equal(a[sorted(need.columns) + ints], b[sorted(need.columns) + ints],
                                  check_dtype=False, check_categorical=False)
    floats = [c for c in a.columns if c not in need.columns and c not in ints]
    # SQLite stores REAL doubles, the raw reader keeps float32 weights: 1e-6 is far above that
    # rounding and far below any real difference (one gram in a kilogram sum).
    pd.testing.assert_frame_equal(a[floats], b[floats], check_dtype=False, rtol=1e-6)


def rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return float(f"{value:.6g}") if isinstance(value, float) else value


@st.composite
def filter_values(draw: st.DrawFn, meta: Any, first: Any, last: Any) -> dict[str, Any]:
    days = [first - timedelta(days=1) + timedelta(days=i) for i in range((last - first).days + 2)]
    start = draw(st.sampled_from(days))
    end = draw(st.sampled_from([d for d in days if d >= start]))
    raw: dict[str, Any] = {"fecha": {"preset": "personalizado", "start": start.isoformat(),
                                     "end": end.isoformat()}}
    if draw(st.booleans()):
        raw["lineas"] = draw(st.lists(st.sampled_from(sorted(meta.lines)), min_size=1, unique=True))
    if draw(st.booleans()):
        raw["turnos"] = draw(st.lists(st.sampled_from(sorted(meta.shifts)), min_size=1, unique=True))
    if draw(st.booleans()):
        raw["productos"] = draw(st.lists(st.sampled_from(sorted(meta.products)), min_size=1, unique=True))
    raw["incluir_rechazos"] = draw(st.sampled_from(["true", "false"]))
    if draw(st.booleans()):
        low = draw(st.sampled_from([None, "40", "95.5", "480"]))
        high = draw(st.sampled_from([None, "100", "160.5", "520"]))
        raw["peso"] = {"min": low, "max": high}
    return raw


def test_the_plan_reads_raw_rows_only_for_raw_widgets():
    assert choose_plan([FrameNeed(frozenset({"line_code"}), frozenset({"units"}))]).path == "pushdown"
    raw = choose_plan([FrameNeed(frozenset({"line_code"}), frozenset({"units"})),
                       FrameNeed(frozenset({"ts"}), raw=True)])
    assert raw.path == "raw" and "raw" in raw.reason


def test_time_buckets_divide_every_boundary_the_dimensions_need(runtime, plant_tenant):
    meta = runtime.meta.get(plant_tenant)
    assert bucket_minutes(meta, {"line_code"}) is None
    assert bucket_minutes(meta, {"hour_start"}) == 60
    day = bucket_minutes(meta, {"production_day"})
    assert (int(meta.day_offset.total_seconds()) // 60) % day == 0 and 1440 % day == 0
    shift = bucket_minutes(meta, {"shift_code"})
    assert all(s.start_minute % shift == 0 and s.end_minute % shift == 0 for s in meta.shifts.values())


@pytest.mark.clock
def test_raw_and_pushdown_give_the_same_frames_and_widgets(runtime, demo_tenant):
    meta = runtime.meta.get(demo_tenant)
    first, last = data_days(runtime, demo_tenant)
    filter_set = build_filter_set(DEFAULT_FILTER_ROWS, meta)
    assert len(line_ids(runtime, demo_tenant)) >= 2
    checked = []
    plans = {"plans": [{"date": (first + timedelta(days=i)).isoformat(), "line": line.code,
                        "planned_units": 100}
                       for i in range((last - first).days + 1) for line in meta.lines.values()]}

    @settings(max_examples=15, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(raw=filter_values(meta, first, last))
    def check(raw: dict[str, Any]) -> None:
        try:
            values = filter_set.validate(raw)
        except ValidationFailed:
            assume(False)
        fragments = filter_set.fragments(values)
        window = next((f.time_range for f in fragments if f.time_range is not None), None)
        context = WidgetContext(time_range=window, day_start=DEMO_DAY_START,
                                now=plant_now(runtime.clock, meta.timezone))
        widgets = default_widgets(context)
        needs = list(dict.fromkeys([frame_need(w) for w in widgets] + EXTRA_NEEDS))
        by_raw = read_grained(runtime, demo_tenant, fragments, needs, path="raw")
        pushed = read_grained(runtime, demo_tenant, fragments, needs, path="pushdown")
        assert by_raw.rows == pushed.rows
        for need in needs:
            assert_same_frames(by_raw.frames[need], pushed.frames[need], need)
        for widget in widgets:
            need = frame_need(widget)
            answers = []
            for read in (by_raw, pushed):
                data = read.frames[need]
                if widget.source_type == "external":
                    data = CombinedData(frame=data, payload=plans)
                answers.append(rounded(widget.process_data(data)))
            assert answers[0] == answers[1], widget.class_name
        checked.append(by_raw.rows)

    check()
    assert len(checked) >= 10 and max(checked) > 1000  # the generated sets did select rows
