"""Small pure helpers that shape pandas results into Chart.js JSON."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def chart_json(
    kind: str, labels: list[str], datasets: list[dict[str, Any]], **options: Any
) -> dict[str, Any]:
    """A Chart.js config body: `type` and `data`; styling is applied by the front end."""
    body: dict[str, Any] = {"type": kind, "data": {"labels": labels, "datasets": datasets}}
    if options:
        body["options"] = options
    return body


def dataset(label: str, values: pd.Series | list[float]) -> dict[str, Any]:
    """One Chart.js dataset with plain Python numbers (JSON-safe, no numpy scalars)."""
    data = values.tolist() if isinstance(values, pd.Series) else list(values)
    return {"label": str(label), "data": [_plain(v) for v in data]}


def units_by(frame: pd.DataFrame, column: str) -> pd.Series:
    """Units per value of `column` of a grained frame, unobserved and missing values left out."""
    return frame.groupby(column, observed=True, sort=False)["units"].sum()


def units_of(frame: pd.DataFrame) -> np.ndarray:
    """The `units` measure of a grained frame as int64 (weights for `np.bincount`)."""
    return frame["units"].to_numpy(dtype=np.int64)


def line_keys(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Per-row line index (ordered by line code) and the line names in that order.

    Categorical columns factorize through their codes, so no Python object is made per row;
    the index feeds `np.bincount`, which aggregates a million rows in milliseconds.
    """
    index, names, _codes = line_groups(frame)
    return index, names


def line_groups(frame: pd.DataFrame) -> tuple[np.ndarray, list[str], list[str]]:
    """`line_keys` plus the line codes in the same order (what a drill-down click applies)."""
    index, codes = pd.factorize(frame["line_code"], sort=True)
    _, first_rows = np.unique(index, return_index=True)
    names = [str(n) for n in frame["line_name"].to_numpy()[first_rows]]
    return index, names, [str(c) for c in codes]


def drill(dimension: str, values: list[Any]) -> list[dict[str, Any]]:
    """Per label, the filter a click applies: [{dimension: value}] (see filters' `dimension`)."""
    return [{dimension: v} for v in values]


def _plain(value: Any) -> float | int | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    return value
