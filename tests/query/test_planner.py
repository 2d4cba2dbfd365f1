"""Exactness of the planner's paths: for generated filter sets over the demo plant, every need's
frame and every default widget's answer are the same whether the rows were grouped in pandas
(raw), by a GROUP BY over the detections (push-down) or read from the rollups with the newest
buckets from raw (rollup), on SQLite and MariaDB, also after a late import into rolled buckets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from core.clock import plant_now
from core.errors import ValidationFailed
from engine.widget_rows import frame_need
from filters import build_filter_set
from filters.defaults import DEFAULT_FILTER_ROWS
from ingest.batch import write_batch
from query import planner
from query.grain import MEASURES, FrameNeed, regrain
from query.planner import PATHS, choose_plan, configured_path, group_spec, read_grained
from query.pushdown import GroupSpec, bucket_minutes
from query.rollup_read import rollup_blocker
from query.spec import SqlFragment
from rollups.job import roll_tenant
from tests.dashboard_support import DEMO_DAY_START, data_days, line_ids, move_to_last_worked_moment
from tests.rollup_support import insert_rows, random_rows
from widgets import widget_registry
from widgets.base import CombinedData, WidgetContext
from widgets.defaults import DEFAULT_WIDGET_ROWS
from widgets.weight_control import WeightControlWidget

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
    ints = [c for c in ("units", "weight_n", "under_nominal_n") if c in a]
    pd.testing.assert_frame_equal(a[sorted(need.columns) + ints], b[sorted(need.columns) + ints],
                                  check_dtype=False, check_categorical=False)
    floats = [c for c in a.columns if c not in need.columns and c not in ints]
    # SQLite stores REAL doubles, the raw reader keeps float32 weights: 1e-6 is far above that
    # rounding and far below any real difference (one gram in a kilogram sum). The demo's weights
    # are float32 values, so even giveaway, a small difference of weights, meets it.
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


def test_the_plan_reads_raw_rows_only_for_raw_widgets_and_rollups_when_nothing_blocks():
    grained = [FrameNeed(frozenset({"line_code"}), frozenset({"units"}))]
    assert choose_plan(grained).path == "rollup"
    pushed = choose_plan(grained, "a filter reads weight_g of each detection")
    assert pushed.path == "pushdown" and "weight_g" in pushed.reason
    raw = choose_plan([*grained, FrameNeed(frozenset({"ts"}), raw=True)])
    assert raw.path == "raw" and "raw" in raw.reason


def test_rollups_are_blocked_by_weight_filters_unaligned_edges_and_fine_shifts(runtime, plant_tenant):
    meta = runtime.meta.get(plant_tenant)
    filter_set = build_filter_set(DEFAULT_FILTER_ROWS, meta)
    spec = GroupSpec.of(meta, {"line_code", "hour_start", "shift_code"}, weights=True)
    fecha = {"preset": "personalizado", "start": "2026-11-10", "end": "2026-11-12"}

    def blocker(raw: dict[str, Any], at: GroupSpec = spec) -> str | None:
        return rollup_blocker(at, filter_set.fragments(filter_set.validate(raw)))

    assert blocker({"fecha": fecha, "incluir_rechazos": "false", "productos": [min(meta.products)],
                    "turnos": [min(meta.shifts)]}) is None
    assert "weight_g" in blocker({"fecha": fecha, "peso": {"min": "40", "max": None}})
    odd = [SqlFragment(time_range=(datetime(2026, 11, 10, 6, 2), datetime(2026, 11, 11, 6)))]
    assert "bucket edge" in rollup_blocker(spec, odd)
    assert "3-minute" in rollup_blocker(GroupSpec(frozenset({"shift_code"}), False, 3), [])


def test_time_buckets_divide_every_boundary_the_dimensions_need(runtime, plant_tenant):
    meta = runtime.meta.get(plant_tenant)
    assert bucket_minutes(meta, {"line_code"}) is None
    assert bucket_minutes(meta, {"hour_start"}) == 60
    day = bucket_minutes(meta, {"production_day"})
    assert (int(meta.day_offset.total_seconds()) // 60) % day == 0 and 1440 % day == 0
    shift = bucket_minutes(meta, {"shift_code"})
    assert all(s.start_minute % shift == 0 and s.end_minute % shift == 0 for s in meta.shifts.values())


def compare_paths(runtime: Any, slug: str, fragments: list[SqlFragment], widgets: list[Any],
                  plans: dict[str, Any]) -> tuple[int, bool]:
    """Every need's frame and widget answer equal on every path that may answer the fragments;
    returns (detections selected, whether the rollups took part)."""
    needs = list(dict.fromkeys([frame_need(w) for w in widgets] + EXTRA_NEEDS))
    paths = ["raw", "pushdown"]
    if rollup_blocker(group_spec(runtime.meta.get(slug), needs), fragments) is None:
        paths.append("rollup")
    reads = [read_grained(runtime, slug, fragments, needs, path=p) for p in paths]
    for read in reads[1:]:
        assert read.rows == reads[0].rows
        for need in needs:
            assert_same_frames(reads[0].frames[need], read.frames[need], need)
    for widget in widgets:
        need = frame_need(widget)
        answers = []
        for read in reads:
            data = read.frames[need]
            if widget.source_type == "external":
                data = CombinedData(frame=data, payload=plans)
            answers.append(rounded(widget.process_data(data)))
        assert all(a == answers[0] for a in answers), widget.class_name
    return reads[0].rows, "rollup" in paths and bool(reads[-1].plan.get("rolled_lines"))


def nominal_edges(meta: Any, day: Any) -> pd.DataFrame:
    """A batch of the nominal measures' edge cases the demo lacks (it weighs every unit): units
    at, just under and just over the nominal, and unweighed ones, good and rejected, per line."""
    rows = []
    for i, line in enumerate(sorted(meta.lines.values(), key=lambda ln: ln.id)):
        product = meta.products[min(meta.products_by_line[line.id])]
        ts = datetime.combine(day, datetime.min.time()) + DEMO_DAY_START + timedelta(hours=2 + i, seconds=11)
        nominal = product.nominal_weight_g
        # 1/8 g steps: the same number in the raw reader's float32 and in a SQLite double, so
        # even the spread of a group of only these rows is identical on every path.
        for weight in (f"{nominal}", f"{nominal}", f"{nominal - 0.125}", f"{nominal + 0.125}", "", ""):
            for status in ("ok", "reject"):
                rows.append({"line": line.code, "ts": ts.isoformat(sep=" "), "product_code": product.code,
                             "weight_g": weight, "status": status})
    return pd.DataFrame(rows).assign(__line=range(1, len(rows) + 1))


@pytest.mark.clock
def test_every_path_gives_the_same_frames_and_widgets(runtime, demo_tenant, monkeypatch):
    """A product without a nominal is in test_nominal_measures_equal_plain_sql_on_every_path (the
    default top-products table takes every unit for a known product)."""
    # The newest-bucket check below needs detections up to "now": on a clock edge where the plant
    # does not work, "now" becomes the last worked minute of the shift calendar.
    move_to_last_worked_moment(runtime, demo_tenant)
    meta = runtime.meta.get(demo_tenant)
    first, last = data_days(runtime, demo_tenant)
    write_batch(runtime.db, meta, nominal_edges(meta, first), allowed=set(meta.lines_by_code), window=None)
    roll_tenant(runtime, demo_tenant)  # the fixture leaves the rollups to the job
    filter_set = build_filter_set(DEFAULT_FILTER_ROWS, meta)
    assert len(line_ids(runtime, demo_tenant)) >= 2
    plans = {"plans": [{"date": (first + timedelta(days=i)).isoformat(), "line": line.code,
                        "planned_units": 100}
                       for i in range((last - first).days + 1) for line in meta.lines.values()]}
    checked: list[tuple[int, bool]] = []

    def widgets_for(fragments: list[SqlFragment]) -> list[Any]:
        window = next((f.time_range for f in fragments if f.time_range is not None), None)
        return default_widgets(WidgetContext(time_range=window, day_start=DEMO_DAY_START,
                                             now=plant_now(runtime.clock, meta.timezone)))

    @settings(max_examples=15, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(raw=filter_values(meta, first, last))
    def check(raw: dict[str, Any]) -> None:
        try:
            values = filter_set.validate(raw)
        except ValidationFailed:
            assume(False)
        fragments = filter_set.fragments(values)
        checked.append(compare_paths(runtime, demo_tenant, fragments, widgets_for(fragments), plans))

    check()
    assert len(checked) >= 10 and max(rows for rows, _ in checked) > 1000  # the sets selected rows
    assert sum(rolled for _, rolled in checked) >= 3  # and the rollups answered several of them

    # The newest bucket: rows after the watermark come from raw, and the default dashboard
    # selection straddles it (the demo's data runs up to "now").
    everything = filter_set.fragments(filter_set.validate(
        {"fecha": {"preset": "personalizado", "start": first.isoformat(), "end": last.isoformat()}}))
    rows, rolled = compare_paths(runtime, demo_tenant, everything, widgets_for(everything), plans)
    read = read_grained(runtime, demo_tenant, everything, [EXTRA_NEEDS[0], EXTRA_NEEDS[1]])
    assert rolled and read.plan["path"] == "rollup" and read.plan["raw_lines"]
    assert read.plan["hourly_tier"]  # day windows read whole hours from the hourly tier
    weights = read.frames[EXTRA_NEEDS[1]]  # the nominal measures took part in the comparisons
    assert weights["under_nominal_n"].sum() > 0 and weights["giveaway_sum_g"].sum() > 0
    assert (weights["weight_n"] < weights["units"]).any()

    # A late import into rolled buckets marks them dirty: until the job redoes them, they are
    # read from raw, so the answer already counts the new rows; after the job, from the rollups.
    line = min(meta.lines.values(), key=lambda ln: ln.id)
    product = meta.products[min(meta.products_by_line[line.id])]
    late_ts = datetime.combine(first, datetime.min.time()) + DEMO_DAY_START + timedelta(hours=3, seconds=7)
    late = pd.DataFrame({"line": [line.code] * 3, "ts": [late_ts.isoformat(sep=" ")] * 3,
                         "product_code": [product.code] * 3, "weight_g": ["1.5", "", "2.5"],
                         "status": ["ok", "reject", "ok"], "__line": [1, 2, 3]})
    write_batch(runtime.db, meta, late, allowed={line.code}, window=None)
    after, _ = compare_paths(runtime, demo_tenant, everything, widgets_for(everything), plans)
    assert after == rows + 3
    roll_tenant(runtime, demo_tenant)
    rolled_again, _ = compare_paths(runtime, demo_tenant, everything, widgets_for(everything), plans)
    assert rolled_again == rows + 3

    # Windows longer than SPLIT_AFTER are read once per time grain: the same frames and answers
    # as the raw pipeline, which reads once.
    monkeypatch.setattr(planner, "SPLIT_AFTER", timedelta(0))
    split_rows, _ = compare_paths(runtime, demo_tenant, everything, widgets_for(everything), plans)
    assert split_rows == rows + 3
    split = read_grained(runtime, demo_tenant, everything, EXTRA_NEEDS)
    assert len(split.plan["reads"]) >= 2 and split.rows == rows + 3


def test_nominal_measures_equal_plain_sql_on_every_path(runtime, plant_tenant):
    """Under-nominal counts and giveaway sums per product × status on every path (rolled
    buckets plus a raw tail after the watermark) equal a plain SQL GROUP BY, including units
    exactly at the nominal, unweighed ones and a product without a `products` row."""
    meta = runtime.meta.get(plant_tenant)
    line = meta.lines_by_code["L1"].id
    products = {p.id: p.nominal_weight_g for p in meta.products.values() if line in p.line_ids}
    pf090 = meta.products_by_code["PF-090"].id
    day = datetime(2026, 11, 18)  # ORDINARY_NOW is 15:30 that day: buckets after it stay raw
    edges = [(day.replace(hour=11), pf090, 90.0, 0), (day.replace(hour=11), pf090, 90.0, 1),  # at nominal
             (day.replace(hour=11, minute=1), pf090, None, 0),  # unweighed
             (day.replace(hour=11, minute=2), 999_999, 50.0, 0),  # a product without a nominal
             (day.replace(hour=15, minute=40), pf090, 89.875, 0),  # after the watermark
             (day.replace(hour=15, minute=41), 999_999, 150.0, 0)]
    rows = edges + random_rows(np.random.default_rng(3), day.replace(hour=10), 6, 1500, products)
    insert_rows(runtime, plant_tenant, line, rows)
    roll_tenant(runtime, plant_tenant)

    filter_set = build_filter_set(DEFAULT_FILTER_ROWS, meta)
    date = day.date().isoformat()
    fragments = filter_set.fragments(filter_set.validate(
        {"fecha": {"preset": "personalizado", "start": date, "end": date}}))
    lo, hi = next(f.time_range for f in fragments if f.time_range is not None)
    plain = text(
        "SELECT d.product_id, d.status, COUNT(*), COUNT(d.weight_g), "
        "SUM(CASE WHEN d.weight_g < p.nominal_weight_g THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN d.weight_g > p.nominal_weight_g THEN d.weight_g - p.nominal_weight_g ELSE 0 END) "
        f"FROM detections_{line} d LEFT JOIN products p ON p.id = d.product_id "
        "WHERE d.ts >= :lo AND d.ts < :hi GROUP BY d.product_id, d.status")
    with runtime.db.tenant(plant_tenant) as conn:
        truth = {(int(r[0]), int(r[1])): (int(r[2]), int(r[3]), int(r[4]), float(r[5]))
                 for r in conn.execute(plain, {"lo": lo, "hi": hi})}
        at_nominal = conn.execute(text(
            f"SELECT COUNT(*) FROM detections_{line} d JOIN products p ON p.id = d.product_id "
            "WHERE d.weight_g = p.nominal_weight_g")).scalar()
    assert sum(v[0] for v in truth.values()) == len(rows) and at_nominal >= 2
    assert truth[(999_999, 0)][1] > 0 and truth[(999_999, 0)][2:] == (0, 0.0)
    assert sum(v[2] for v in truth.values()) > 0 and sum(v[3] for v in truth.values()) > 0

    by_product = FrameNeed(frozenset({"product_id", "status"}), WEIGHTS)
    control = WeightControlWidget(widget_id=1, title="Control de peso")
    needs = [by_product, FrameNeed(frozenset({"hour_start"}), WEIGHTS), FrameNeed(frozenset(), WEIGHTS),
             frame_need(control)]
    reads = {p: read_grained(runtime, plant_tenant, fragments, needs, path=p) for p in PATHS}
    assert line in reads["rollup"].plan["rolled_lines"] and line in reads["rollup"].plan["raw_lines"]
    for path, read in reads.items():
        frame = sorted_frame(read.frames[by_product], by_product)
        got = {(int(r.product_id), int(r.status)): (int(r.units), int(r.weight_n), int(r.under_nominal_n),
                                                    float(r.giveaway_sum_g)) for r in frame.itertuples()}
        assert got.keys() == truth.keys(), path
        for key, want in truth.items():  # weights in 1/8 g: every sum is exact
            assert got[key][:3] == want[:3] and got[key][3] == pytest.approx(want[3], rel=1e-12), (path, key)
        for need in needs[1:]:
            assert_same_frames(reads["raw"].frames[need], read.frames[need], need)
    answers = [control.process_data(read.frames[frame_need(control)]) for read in reads.values()]
    assert all(rounded(a) == rounded(answers[0]) for a in answers)
    (row,) = [r for r in answers[0]["rows"] if r[0] == meta.products[pf090].name]
    good = [v for (pid, status), v in truth.items() if pid == pf090 and status == 0]
    assert row[5] == pytest.approx(100 * good[0][2] / good[0][1], abs=1e-9)
    assert len(answers[0]["rows"]) == len({pid for pid, _ in truth} - {999_999})


def test_the_configured_path_is_forced_unless_a_widget_needs_raw_rows():
    grouped = FrameNeed(frozenset({"line_id"}), frozenset({"units"}), False)
    raw = FrameNeed(frozenset({"ts"}), frozenset(), True)
    assert configured_path("auto", [grouped]) is None
    assert configured_path("pushdown", [grouped]) == "pushdown"
    assert configured_path("raw", [grouped, raw]) == "raw"
    assert configured_path("rollup", [grouped, raw]) is None
    with pytest.raises(ValueError):
        configured_path("fastest", [grouped])
