"""The grain of widget data: rows keyed by dimension columns, each carrying summable measures.

A grained frame row stands for `units` detections that share the values of its dimension
columns; its measure columns summarise them. Every path that feeds widgets (raw rows grouped in
pandas, a GROUP BY pushed down to the database, rollups) must produce the same grained frame, so
widgets aggregate by summing measures (min/max by min/max) and never count rows with `len()`.

Rows of a grained frame are not guaranteed unique per dimension tuple: a path may hand a finer
grain (e.g. one row per rollup bucket and a raw row per newest detection) and the widget's own
group-by folds it. `FrameNeed` is what one widget asks for; `shape_frames` builds each need's
frame from the raw master rows with one expensive group-by and cheap regroupings after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from core.errors import InvalidDefinition
from query.columns import MASTER_COLUMNS, check_columns

RAW_ONLY_COLUMNS = frozenset({"ts", "weight_g"})
"""Master columns with a value per detection: only widgets that declare raw rows may read them."""

DIMENSION_COLUMNS = frozenset(MASTER_COLUMNS) - RAW_ONLY_COLUMNS
"""Master columns a grained widget may group by."""

SUM = "sum"
MIN = "min"
MAX = "max"

_MEASURES: dict[str, str] = {
    "units": SUM,  # detections the row stands for (int64)
    "weight_n": SUM,  # of them, detections with a weight (int64)
    "weight_sum_g": SUM,  # float64 grams
    "weight_sumsq_g2": SUM,  # float64 grams², for variance / standard deviation
    "weight_min_g": MIN,  # float64, NaN when weight_n == 0
    "weight_max_g": MAX,
    "under_nominal_n": SUM,  # of the weighed, detections lighter than their product's nominal (int64)
    "giveaway_sum_g": SUM,  # float64 grams: Σ (weight − nominal) over detections heavier than it
}

MEASURES: Mapping[str, str] = MappingProxyType(_MEASURES)
"""Measure column → how two rows of it combine (sum, min or max)."""

WEIGHT_MEASURES = frozenset(MEASURES) - {"units"}
"""Measures read from each detection's weight (a grouped read selects them all together)."""

NOMINAL_MEASURES = frozenset({"under_nominal_n", "giveaway_sum_g"})
"""Weight measures against the product's nominal, with the rollup job's definitions
(core/rollup_sql.py): only weighed units of a product with a nominal count, at nominal is neither."""

_INT_MEASURES = frozenset({"units", "weight_n", "under_nominal_n"})


@dataclass(frozen=True)
class FrameNeed:
    """What one widget reads: raw rows with `columns`, or `columns` as dimensions + `measures`."""

    columns: frozenset[str]
    measures: frozenset[str] = frozenset()
    raw: bool = False

    def master_columns(self) -> frozenset[str]:
        """The master (per-detection) columns this need is computed from."""
        if self.raw:
            return self.columns
        weights = {"weight_g"} if self.measures & WEIGHT_MEASURES else set()
        nominal = {"nominal_weight_g"} if self.measures & NOMINAL_MEASURES else set()
        return self.columns | weights | nominal

    def output_columns(self) -> list[str]:
        """The columns of the frame handed to the widget, dimensions first (sorted)."""
        if self.raw:
            return sorted(self.columns)
        return sorted(self.columns) + [m for m in MEASURES if m in self.measures]


def check_need(need: FrameNeed) -> FrameNeed:
    """The need itself, or InvalidDefinition naming what it may not read."""
    check_columns(need.columns)
    if need.raw:
        if need.measures:
            raise InvalidDefinition("a raw-row widget reads columns, not measures")
        return need
    raw_only = sorted(need.columns & RAW_ONLY_COLUMNS)
    if raw_only:
        raise InvalidDefinition(
            f"column(s) {', '.join(raw_only)} exist per detection only: declare raw_rows = True,"
            " or use hour_start/production_day and the weight measures"
        )
    unknown = sorted(need.measures - set(MEASURES))
    if unknown:
        raise InvalidDefinition(f"unknown measure(s): {', '.join(unknown)}")
    if "units" not in need.measures:
        raise InvalidDefinition("a grained widget always reads the units measure")
    return need


def master_columns_for(needs: Iterable[FrameNeed]) -> set[str]:
    """The union of master columns every need is computed from (what the read must select)."""
    out: set[str] = set()
    for need in needs:
        out |= need.master_columns()
    return out


def empty_grain(need: FrameNeed) -> pd.DataFrame:
    """A grained frame without rows, with the need's columns and the measures' dtypes."""
    data: dict[str, object] = {c: pd.Series([], dtype=object) for c in sorted(need.columns)}
    for name in need.output_columns()[len(need.columns):]:
        data[name] = np.empty(0, dtype=np.int64 if name in _INT_MEASURES else np.float64)
    return pd.DataFrame(data)


def nominal_measures(weight: np.ndarray, nominal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per detection, (under nominal 0/1, giveaway g): core/rollup_sql.py's definitions in numpy.

    NaN (no weight, or a product without a nominal) compares false, as NULL does in SQL. Both
    arrays hold float32 values (the detections' and products' FLOAT columns) widened to float64,
    so the comparison and the difference are the ones MySQL/MariaDB computes.
    """
    return (weight < nominal).astype(np.int64), np.where(weight > nominal, weight - nominal, 0.0)


def rows_to_grain(rows: pd.DataFrame, dims: Iterable[str], measures: Iterable[str]) -> pd.DataFrame:
    """Group per-detection rows to `dims`, computing the requested measures (every weight
    measure but the nominal ones when one is asked, since they come from one pass; the
    nominal ones, which need `nominal_weight_g`, only when asked)."""
    measures = frozenset(measures)
    if not measures & WEIGHT_MEASURES:
        prepared = rows[list(dims)].assign(units=np.int64(1))
        return _combine(prepared, dims, frozenset({"units"}))
    weight = rows["weight_g"].to_numpy(dtype=np.float64, na_value=np.nan)
    present = ~np.isnan(weight)
    computed: dict[str, np.ndarray] = {
        "weight_n": present.astype(np.int64),
        "weight_sum_g": np.where(present, weight, 0.0),
        "weight_sumsq_g2": np.where(present, weight * weight, 0.0),
        "weight_min_g": weight,
        "weight_max_g": weight,
    }
    if measures & NOMINAL_MEASURES:
        nominal = rows["nominal_weight_g"].to_numpy(dtype=np.float64, na_value=np.nan)
        computed["under_nominal_n"], computed["giveaway_sum_g"] = nominal_measures(weight, nominal)
    prepared = rows[list(dims)].assign(units=np.int64(1), **computed)
    return _combine(prepared, dims, frozenset({"units", *computed}))


def regrain(frame: pd.DataFrame, dims: Iterable[str], measures: Iterable[str]) -> pd.DataFrame:
    """A grained frame folded to coarser `dims`, keeping only `measures`."""
    return _combine(frame, dims, frozenset(measures))


def _combine(frame: pd.DataFrame, dims: Iterable[str], measures: frozenset[str]) -> pd.DataFrame:
    dims = sorted(dims)
    names = [m for m in MEASURES if m in measures]
    if not dims:
        if len(frame) == 0:
            return frame[names].iloc[0:0].reset_index(drop=True)
        return pd.DataFrame({m: [_fold(frame[m], MEASURES[m])] for m in names})
    grouped = frame.groupby(dims, observed=True, sort=True, dropna=False)[names]
    out = grouped.agg({m: MEASURES[m] for m in names})
    return out.reset_index()


def _fold(column: pd.Series, how: str) -> object:
    if how == SUM:
        return column.sum()
    return column.min() if how == MIN else column.max()


def shape_frames(rows: pd.DataFrame, needs: Iterable[FrameNeed]) -> dict[FrameNeed, pd.DataFrame]:
    """Each need's frame from the raw master rows: raw needs get a column view; grained needs
    are grouped once at the union of their dimensions, then each folded to its own."""
    needs = list(dict.fromkeys(needs))
    out: dict[FrameNeed, pd.DataFrame] = {}
    grained = [n for n in needs if not n.raw]
    if grained:
        dims = frozenset().union(*(n.columns for n in grained))
        measures = frozenset().union(*(n.measures for n in grained))
        finest = rows_to_grain(rows, dims, measures)
        for need in grained:
            out[need] = regrain(finest, need.columns, need.measures)[need.output_columns()]
    for need in needs:
        if need.raw:
            out[need] = rows[sorted(need.columns)]
    return out
