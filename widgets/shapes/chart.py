"""The `chart` shape: a Chart.js body (labels and datasets), drawn in the browser."""

from __future__ import annotations

from typing import Any

from widgets.shapes.base import Table, is_empty, shape


@shape("chart")
def chart_rows(data: dict[str, Any]) -> Table:
    """One row per label: the label, then each dataset's value at that label."""
    if is_empty(data) or "data" not in data:
        return ["Etiqueta"], []
    body = data["data"]
    datasets = body.get("datasets", [])
    header = ["Etiqueta", *[str(d.get("label", "")) for d in datasets]]
    rows = [[label, *[_at(d.get("data", []), i) for d in datasets]]
            for i, label in enumerate(body.get("labels", []))]
    return header, rows


def _at(values: list[Any], index: int) -> Any:  # noqa: ANN401 - a dataset's value
    return values[index] if index < len(values) else None
