"""Table: ERP plan against detected units, per line and production day (ERP + master frame)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from widgets._erp import ConfiguredApiWidget, api_id_field, invalid_payload
from widgets.base import CombinedData, widget_registry

COLUMNS = [
    {"key": "day", "label": "Día", "decimals": None},
    {"key": "line", "label": "Línea", "decimals": None},
    {"key": "plan", "label": "Plan", "decimals": 0},
    {"key": "actual", "label": "Real", "decimals": 0},
    {"key": "attainment", "label": "Cumplimiento %", "decimals": 1},
]


class PlanVsActualConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api: str = api_id_field("erp_plans")


class _Plan(BaseModel):
    date: date
    line: str
    planned_units: int = Field(ge=0)


class _Plans(BaseModel):
    plans: list[_Plan]


@widget_registry.register
class PlanVsActualWidget(ConfiguredApiWidget):
    """Rows per (day, line) planned by the ERP; actual units counted from the detections."""

    required_columns = frozenset({"line_code", "line_name", "shift_date"})
    shape = "table"
    config_model = PlanVsActualConfig
    default_size = (6, 2)

    def api_params(self) -> dict[str, str]:
        """The applied production days (inclusive), so the plan matches the frame."""
        days = self.context.production_days()
        return {} if days is None else {"start": days[0].isoformat(), "end": days[1].isoformat()}

    def process_data(self, data: CombinedData) -> dict[str, Any]:
        """Join the plan with units summed per (production day, line code)."""
        try:
            plans = _Plans.model_validate(data.payload).plans
        except ValidationError as exc:
            raise invalid_payload(exc) from None
        frame: pd.DataFrame = data.frame
        actual: dict[tuple[date, str], int] = {}
        names: dict[str, str] = {}
        if len(frame):
            days = pd.to_datetime(frame["shift_date"]).dt.date
            grouped = frame.assign(day=days).groupby(["day", "line_code"], observed=True)["units"].sum()
            actual = {(d, str(c)): int(n) for (d, c), n in grouped.items()}
            pairs = frame[["line_code", "line_name"]].drop_duplicates()
            names = {str(c): str(n) for c, n in zip(pairs["line_code"], pairs["line_name"], strict=True)}
        rows = []
        for plan in sorted(plans, key=lambda p: (p.date, p.line)):
            done = actual.get((plan.date, plan.line), 0)
            share = 100.0 * done / plan.planned_units if plan.planned_units else None
            rows.append([plan.date.isoformat(), names.get(plan.line, plan.line), plan.planned_units,
                         done, share])
        if not rows:
            return self.empty_result()
        return {"columns": COLUMNS, "rows": rows}
