"""The body of a plant KPI card: a figure, the same figure over the period before, and the change.

The OEE and downtime cards differ only in how they compute their figure; the card around it
(keys, their order, the change and its arrow) is built here once, so both stay alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from widgets._plant import Components, change_pct, report_rows, summed, trend
from widgets.plant_data import PlantData


def kpi_card(metric: str, value: float | None, previous: float | None, *, unit: str, decimals: int,
             higher_is_better: bool, scale: float | None = None) -> dict[str, Any]:
    """A `kpi` shape body compared with the previous period.

    The change is taken on the figures as computed; `scale` (100 for a ratio shown in %) applies
    to the shown value and previous only, so it cannot move the change by a rounding. Without a
    scale the figures pass through untouched (an int count stays an int in the JSON).
    """
    change = change_pct(value, previous)
    return {"value": _scaled(value, scale), "unit": unit, "decimals": decimals, "metric": metric,
            "previous": _scaled(previous, scale), "change_pct": change, "trend": trend(change),
            "higher_is_better": higher_is_better}


def now_and_before(data: PlantData, figure: Callable[[Components], float | None],
                   ) -> tuple[list[dict[str, Any]], float | None, float | None] | None:
    """The period's report rows, its figure and the previous equal period's (None: no row then).

    None when the period has no shift instance at all, so the card shows its empty state.
    """
    rows = report_rows(data.report)
    if not rows:
        return None
    before_rows = report_rows(data.previous)
    previous = figure(summed(before_rows, data)) if before_rows else None
    return rows, figure(summed(rows, data)), previous


def _scaled(figure: float | None, scale: float | None) -> float | None:
    return figure * scale if figure is not None and scale is not None else figure
