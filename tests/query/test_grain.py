"""The grain contract: raw rows grouped to a widget's dimensions carry exact measures, and every
widget gives the same answer on raw-grouped data and on a finer, non-unique grain of it."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.dialects import mysql, sqlite

from core.errors import InvalidDefinition
from core.rollup_sql import giveaway_sql, under_nominal_sql
from core.schema_tenant import detections_table, products
from query.grain import (
    MEASURES,
    WEIGHT_MEASURES,
    FrameNeed,
    check_need,
    master_columns_for,
    regrain,
    rows_to_grain,
    shape_frames,
)
from rollups.rebuild import aggregate_select
from tests.registry_samples import sample_id, widget_samples
from widgets.base import CombinedData, WidgetContext
from widgets.plan_vs_actual import PlanVsActualWidget

WEIGHTS = frozenset(MEASURES)
NOMINALS = {"A": 500.0, "B": 490.0, "C": 510.0}


def raw_rows(n: int = 400, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2026-03-01 05:00") + pd.to_timedelta(rng.integers(0, 5 * 86400, n), unit="s")
    lines = rng.integers(0, 3, n)
    weight = np.round(rng.normal(500.0, 20.0, n))  # whole grams: some exactly at the nominal
    weight[rng.random(n) < 0.1] = np.nan
    products = np.array(["A", "B", "C", None], dtype=object)[rng.integers(0, 4, n)]
    nominal = np.array([NOMINALS.get(p, np.nan) for p in products], dtype=np.float32)
    shifted = ts - pd.Timedelta(hours=6)
    return pd.DataFrame({
        "ts": ts,
        "hour_start": ts.floor("h"),
        "production_day": shifted.floor("D"),
        "shift_date": shifted.floor("D"),
        "line_code": pd.Categorical(np.array(["L1", "L2", "L3"])[lines]),
        "line_name": pd.Categorical(np.array(["Línea 1", "Línea 2", "Línea 3"])[lines]),
        "product_name": pd.Categorical(products),
        "nominal_weight_g": nominal,
        "weight_g": weight,
        "is_reject": rng.random(n) < 0.2,
    })


def test_measures_equal_plain_aggregation_per_group():
    rows = raw_rows()
    out = rows_to_grain(rows, ["line_code"], WEIGHTS).set_index("line_code")
    for code, part in rows.groupby("line_code", observed=True):
        w = part["weight_g"].dropna()
        got = out.loc[code]
        assert got["units"] == len(part) and got["weight_n"] == len(w)
        assert got["weight_sum_g"] == pytest.approx(w.sum(), rel=1e-12)
        assert got["weight_sumsq_g2"] == pytest.approx((w * w).sum(), rel=1e-12)
        assert (got["weight_min_g"], got["weight_max_g"]) == (w.min(), w.max())
    assert out["units"].dtype == np.int64 and out["weight_sum_g"].dtype == np.float64
    assert out["under_nominal_n"].dtype == np.int64 and out["giveaway_sum_g"].dtype == np.float64


def test_nominal_measures_count_weighed_units_of_known_products_only():
    rows = raw_rows()
    out = rows_to_grain(rows, ["product_name"], WEIGHTS)
    for _, got in out.iterrows():
        part = rows[rows["product_name"].isna()] if pd.isna(got["product_name"]) else rows[
            rows["product_name"] == got["product_name"]]
        nominal = NOMINALS.get(got["product_name"])
        w = part["weight_g"].dropna()
        if nominal is None:  # a product without a nominal: neither under nor giving away
            assert (got["under_nominal_n"], got["giveaway_sum_g"]) == (0, 0.0) and len(w) > 0
            continue
        assert got["under_nominal_n"] == int((w < nominal).sum())
        assert got["giveaway_sum_g"] == pytest.approx(float((w[w > nominal] - nominal).sum()), rel=1e-12)
        at_nominal = int((w == nominal).sum())
        assert at_nominal > 0  # exactly at the nominal: counted in neither
        assert got["under_nominal_n"] + at_nominal + int((w > nominal).sum()) == got["weight_n"]


def test_nominal_measures_are_computed_only_when_asked():
    rows = raw_rows().drop(columns="nominal_weight_g")
    out = rows_to_grain(rows, ["line_code"], {"units", "weight_sum_g"})
    assert list(out.columns) == ["line_code", "units", "weight_n", "weight_sum_g", "weight_sumsq_g2",
                                 "weight_min_g", "weight_max_g"]
    assert {"under_nominal_n", "giveaway_sum_g"} <= WEIGHT_MEASURES


def test_the_push_down_uses_the_rollup_jobs_own_nominal_expressions():
    """One definition: the expressions core/rollup_sql.py gives the push-down are the ones the
    rollup job's INSERT … SELECT compiles (the exactness tests then compare the numbers)."""
    d = detections_table(1)
    weight, nominal = d.c.weight_g, products.c.nominal_weight_g
    for dialect in (sqlite.dialect(), mysql.dialect()):
        stmt = aggregate_select(1, dialect.name, by_range=True).params(lo=datetime(2026, 1, 1),
                                                                        hi=datetime(2026, 1, 2))
        job = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        for expr in (under_nominal_sql(weight, nominal), giveaway_sql(weight, nominal)):
            text = str(expr.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            assert text.startswith("CASE WHEN (detections_1.weight_g") and f"sum({text})" in job


def test_missing_dimension_values_stay_a_group_and_no_units_are_lost():
    rows = raw_rows()
    out = rows_to_grain(rows, ["product_name"], {"units"})
    assert out["units"].sum() == len(rows)
    assert out["product_name"].isna().sum() == 1
    assert list(out.columns) == ["product_name", "units"]


def test_regrain_of_a_finer_grain_equals_grouping_the_rows_directly():
    rows = raw_rows()
    fine = rows_to_grain(rows, ["line_code", "product_name", "hour_start"], WEIGHTS)
    direct = rows_to_grain(rows, ["line_code"], WEIGHTS)
    folded = regrain(fine, ["line_code"], WEIGHTS)
    pd.testing.assert_frame_equal(folded, direct, check_exact=False, rtol=1e-12)


def test_no_dimensions_is_one_total_row_or_none():
    rows = raw_rows()
    total = rows_to_grain(rows, [], {"units", "weight_sum_g"})
    assert total["units"].tolist() == [len(rows)]
    assert total["weight_sum_g"].iloc[0] == pytest.approx(rows["weight_g"].sum())
    assert len(rows_to_grain(rows.iloc[0:0], [], {"units"})) == 0


def test_needs_are_checked_with_clear_messages():
    check_need(FrameNeed(frozenset({"line_code"}), frozenset({"units"})))
    check_need(FrameNeed(frozenset({"ts", "weight_g"}), raw=True))
    with pytest.raises(InvalidDefinition, match="raw_rows"):
        check_need(FrameNeed(frozenset({"ts"}), frozenset({"units"})))
    with pytest.raises(InvalidDefinition, match="unknown measure"):
        check_need(FrameNeed(frozenset(), frozenset({"units", "profit"})))
    with pytest.raises(InvalidDefinition, match="unknown master column"):
        check_need(FrameNeed(frozenset({"colour"}), frozenset({"units"})))
    with pytest.raises(InvalidDefinition, match="units"):
        check_need(FrameNeed(frozenset(), frozenset({"weight_sum_g"})))


def test_master_columns_read_only_what_the_needs_are_computed_from():
    needs = [FrameNeed(frozenset({"line_code"}), frozenset({"units"})),
             FrameNeed(frozenset(), frozenset({"units", "weight_max_g"})),
             FrameNeed(frozenset({"ts"}), raw=True)]
    assert master_columns_for(needs) == {"line_code", "weight_g", "ts"}
    under = FrameNeed(frozenset({"line_code"}), frozenset({"units", "under_nominal_n"}))
    assert master_columns_for([*needs, under]) == {"line_code", "weight_g", "ts", "nominal_weight_g"}


def _split(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The same detections at a finer, non-unique grain: every row with units > 1 split in two
    (sums shared out, min/max kept), rows shuffled, as a mixed rollup + raw path could hand."""
    rng = np.random.default_rng(seed)
    big = frame[frame["units"] > 1]
    first = big.copy()
    share = rng.integers(1, big["units"].to_numpy(), endpoint=False) if len(big) else np.empty(0, int)
    first["units"] = share
    second = big.copy()
    second["units"] = big["units"].to_numpy() - share
    for name in ("weight_n", "weight_sum_g", "weight_sumsq_g2", "under_nominal_n", "giveaway_sum_g"):
        if name in frame:
            first[name] = big[name] if name != "weight_n" else np.minimum(big[name], share)
            second[name] = 0 if name != "weight_n" else big[name] - first[name]
    out = pd.concat([frame[frame["units"] <= 1], first, second], ignore_index=True)
    return out.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def rounded(value: object) -> object:
    """The widget JSON with floats to 9 decimals: summing in another order may move the last bit."""
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return round(value, 9) if isinstance(value, float) else value


WIDGETS = widget_samples("internal", raw_rows=False)


@pytest.mark.parametrize(("cls", "config"), WIDGETS, ids=sample_id)
@pytest.mark.parametrize("window_days", [1, 5])
def test_every_widget_answers_the_same_on_any_grain_of_the_same_rows(cls, config, window_days):
    rows = raw_rows()
    start = datetime(2026, 3, 1, 6)
    context = WidgetContext(time_range=(start, start + timedelta(days=window_days)),
                            day_start=timedelta(hours=6), now=start + timedelta(days=4))
    widget = cls(widget_id=1, title="t", config=config, context=context)
    need = FrameNeed(widget.columns(), widget.measure_columns())
    grained = shape_frames(rows, [need])[need]
    expected = rounded(widget.process_data(grained))
    assert expected != {"empty": True}
    assert rounded(widget.process_data(_split(grained, seed=3))) == expected
    finer = rows_to_grain(rows, set(widget.columns()) | {"product_name", "is_reject"}, need.measures)
    assert rounded(widget.process_data(finer[need.output_columns()])) == expected


def test_plan_vs_actual_sums_units_of_a_non_unique_grain():
    rows = raw_rows()
    widget = PlanVsActualWidget(widget_id=1, title="plan")
    need = FrameNeed(widget.columns(), widget.measure_columns())
    grained = shape_frames(rows, [need])[need]
    day = rows["shift_date"].min()
    plans = {"plans": [{"date": day.date().isoformat(), "line": "L1", "planned_units": 10}]}
    want = widget.process_data(CombinedData(frame=grained, payload=plans))
    assert want["rows"][0][3] == int(((rows["shift_date"] == day) & (rows["line_code"] == "L1")).sum())
    assert widget.process_data(CombinedData(frame=_split(grained, 5), payload=plans)) == want
