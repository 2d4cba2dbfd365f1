"""Widgets in isolation: registry, config validation, and process_data on known frames."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from core.errors import RegistryError, WidgetDataError
from core.layout_ids import to_row_ids
from query.columns import MASTER_COLUMNS
from query.grain import DIMENSION_COLUMNS, FrameNeed, shape_frames
from tests.registry_samples import sample_id, widget_samples
from widgets import widget_registry
from widgets.base import BaseWidget, WidgetContext
from widgets.defaults import DEFAULT_LAYOUT, DEFAULT_WIDGET_ROWS
from widgets.exchange_rate import ExchangeRateWidget
from widgets.kpi import KpiWidget
from widgets.layout import resolve_layout
from widgets.line_summary import LineSummaryWidget
from widgets.product_mix import ProductMixWidget
from widgets.production_by_line import ProductionByLineWidget
from widgets.production_over_time import ProductionOverTimeWidget
from widgets.shapes import shape_names


def frame() -> pd.DataFrame:
    ts = pd.to_datetime(["2026-03-01 06:10", "2026-03-01 06:50", "2026-03-01 08:05",
                         "2026-03-01 06:20", "2026-03-01 09:59"])
    return pd.DataFrame({
        "ts": ts,
        "hour_start": ts.floor("h"),
        "production_day": ts.floor("D"),
        "line_code": pd.Categorical(["L1", "L1", "L1", "L2", "L2"]),
        "line_name": pd.Categorical(["Línea 1", "Línea 1", "Línea 1", "Línea 2", "Línea 2"]),
        "product_name": ["A", "A", "B", "C", "D"],
        "nominal_weight_g": [150.0, 150.0, 200.0, 45.0, 150.0],
        "weight_g": [100.0, 200.0, None, 50.0, 150.0],
        "is_reject": [False, True, False, False, True],
    })


def build(cls: type[BaseWidget], config: dict | None = None, context: WidgetContext | None = None):
    return cls(widget_id=1, title="t", config=config, context=context)


def scoped(widget: BaseWidget) -> pd.DataFrame:
    """The widget's frame at its grain, grouped from the raw rows as the raw path does."""
    need = FrameNeed(widget.columns(), widget.measure_columns(), widget.raw_rows)
    return shape_frames(frame(), [need])[need]


def test_every_default_row_resolves_and_declares_known_columns():
    for row in DEFAULT_WIDGET_ROWS:
        widget = widget_registry.get(row["class_name"])(widget_id=1, title=row["title"], config=row["config"])
        assert widget.shape in shape_names()
        assert widget.source_type in {"internal", "external", "plant"}
        assert widget.columns() <= set(MASTER_COLUMNS)
        if widget.source_type == "plant":
            assert widget.plant_parts and not widget.columns()
            continue
        if not widget.raw_rows:
            assert widget.columns() <= DIMENSION_COLUMNS and "units" in widget.measure_columns()
        if widget.source_type == "external":  # it may also read master columns (plan vs actual)
            assert widget.required_api_id


def test_default_layout_places_every_default_row():
    rows = [dict(r, id=i + 1, active=True) for i, r in enumerate(DEFAULT_WIDGET_ROWS)]
    items = to_row_ids(DEFAULT_LAYOUT, {r["sort_order"]: r["id"] for r in rows})
    placements, errors = resolve_layout(items, rows)
    assert errors == []
    assert [p.row["sort_order"] for p in placements] == [item["widget"] for item in DEFAULT_LAYOUT]
    placed = sorted(item["widget"] for item in DEFAULT_LAYOUT)
    assert placed == sorted(r["sort_order"] for r in DEFAULT_WIDGET_ROWS)


def test_layout_problems_are_messages_not_failures():
    rows = [{"id": 1, "class_name": "KpiWidget", "title": "a", "config": {}, "sort_order": 10},
            {"id": 2, "class_name": "KpiWidget", "title": "b", "config": {}, "sort_order": 20},
            {"id": 3, "class_name": "KpiWidget", "title": "c", "config": {}, "sort_order": 20,
             "active": False}]
    items = [{"widget_id": 1, "w": 3}, {"widget_id": 99}, {"widget_id": 3}, {"widget_id": 1},
             {"widget_id": 2, "w": 40}, {"widget": 10}]
    placements, errors = resolve_layout(items, rows)
    assert [(p.row["id"], p.w, p.h) for p in placements] == [(1, 3, 1)]
    assert len(errors) == 4
    assert "no widget with id 99" in errors[0]
    assert "placed twice" in errors[1]
    placements, errors = resolve_layout(None, rows)
    assert [p.row["id"] for p in placements] == [1, 2] and errors == []


def test_legacy_sort_order_items_convert_to_row_ids():
    items = [{"widget": 10, "w": 3}, {"widget": 99}, {"widget_id": 7, "h": 1}, "junk", {"widget": "x"}]
    assert to_row_ids(items, {10: 4}) == [{"widget_id": 4, "w": 3}, {"widget_id": 7, "h": 1}]
    assert to_row_ids(to_row_ids(items, {10: 4}), {10: 5}) == to_row_ids(items, {10: 4})


def test_unknown_class_and_bad_config_are_registry_errors():
    with pytest.raises(RegistryError, match="unknown widget class"):
        widget_registry.get("os.system")
    with pytest.raises(RegistryError, match="metric"):
        build(KpiWidget, {"metric": "profit"})
    with pytest.raises(RegistryError, match="colour: Extra inputs"):
        build(ProductionByLineWidget, {"colour": "red"})
    with pytest.raises(RegistryError, match="top_n"):
        build(ProductMixWidget, {"top_n": 0})


@pytest.mark.parametrize(("metric", "expected", "columns", "measures"), [
    ("units", 5, set(), {"units"}),
    ("kg", 0.5, set(), {"units", "weight_sum_g"}),
    ("reject_rate", 40.0, {"is_reject"}, {"units"}),
])
def test_kpis(metric, expected, columns, measures):
    widget = build(KpiWidget, {"metric": metric})
    assert widget.columns() == columns
    assert widget.measure_columns() == measures
    out = widget.process_data(scoped(widget))
    assert out["value"] == pytest.approx(expected)
    assert out["rows"] == 5


@pytest.mark.parametrize(("cls", "config"), widget_samples("internal"), ids=sample_id)
def test_no_rows_is_the_empty_state(cls, config):
    widget = build(cls, config)
    assert widget.process_data(scoped(widget).iloc[0:0]) == {"empty": True}


def test_production_by_line():
    widget = build(ProductionByLineWidget)
    out = widget.process_data(scoped(widget))
    assert out["type"] == "bar"
    assert out["data"]["labels"] == ["Línea 1", "Línea 2"]
    assert out["data"]["datasets"][0]["data"] == [3, 2]


def test_product_mix_folds_the_tail_into_otros():
    widget = build(ProductMixWidget, {"top_n": 2})
    out = widget.process_data(scoped(widget))
    assert out["data"]["labels"] == ["A", "B", "Otros"]
    assert out["data"]["datasets"][0]["data"] == [2, 1, 2]
    assert sum(out["data"]["datasets"][0]["data"]) == 5


def test_over_time_hourly_with_gaps_filled_over_the_applied_window():
    window = (datetime(2026, 3, 1, 6), datetime(2026, 3, 1, 11))
    widget = build(ProductionOverTimeWidget, context=WidgetContext(time_range=window))
    out = widget.process_data(scoped(widget))
    assert out["options"]["bucket"] == "hour"
    assert out["data"]["labels"] == [f"2026-03-01 {h:02d}:00" for h in range(6, 11)]
    by_line = {d["label"]: d["data"] for d in out["data"]["datasets"]}
    assert by_line == {"Línea 1": [2, 0, 1, 0, 0], "Línea 2": [1, 0, 0, 1, 0]}


def test_over_time_switches_to_days_for_long_windows():
    window = (datetime(2026, 2, 25), datetime(2026, 3, 4))
    widget = build(ProductionOverTimeWidget, context=WidgetContext(time_range=window))
    assert "hour_start" not in widget.columns()  # a week drawn by day reads no hourly groups
    out = widget.process_data(scoped(widget))
    assert out["options"]["bucket"] == "day"
    assert len(out["data"]["labels"]) == 7
    assert out["data"]["labels"][4] == "2026-03-01"
    assert [d["data"][4] for d in out["data"]["datasets"]] == [3, 2]
    assert sum(sum(d["data"]) for d in out["data"]["datasets"]) == 5


def test_over_time_reads_hours_when_the_window_cut_at_now_is_short():
    month = (datetime(2026, 3, 1, 6), datetime(2026, 4, 1, 6))
    early = build(ProductionOverTimeWidget,
                  context=WidgetContext(time_range=month, now=datetime(2026, 3, 1, 11)))
    assert "hour_start" in early.columns()
    out = early.process_data(scoped(early))
    assert out["options"]["bucket"] == "hour"
    late = build(ProductionOverTimeWidget,
                 context=WidgetContext(time_range=month, now=datetime(2026, 3, 20)))
    assert "hour_start" not in late.columns()
    assert build(ProductionOverTimeWidget, {"bucket": "hour"},
                 context=WidgetContext(time_range=(month[0], month[0] + timedelta(days=5)))).columns() >= {
        "hour_start"}


def test_line_summary_table():
    widget = build(LineSummaryWidget)
    out = widget.process_data(scoped(widget))
    assert [c["key"] for c in out["columns"]] == ["line", "units", "kg", "reject_rate"]
    assert out["rows"][0] == ["Línea 1", 3, pytest.approx(0.3), pytest.approx(100 / 3)]
    assert out["rows"][1] == ["Línea 2", 2, pytest.approx(0.2), pytest.approx(50.0)]


def test_exchange_rate_params_payload_and_validation():
    window = (datetime(2026, 3, 1), datetime(2026, 3, 8))
    widget = build(ExchangeRateWidget, {"base": "EUR"}, WidgetContext(time_range=window))
    assert widget.required_api_id == "fx_rates"
    assert widget.api_params() == {"base": "EUR", "quote": "ARS", "start": "2026-03-01", "end": "2026-03-07"}
    payload = {"base": "EUR", "quote": "ARS", "rates": [{"date": "2026-03-02", "rate": 2.5},
                                                        {"date": "2026-03-01", "rate": 2.0}]}
    out = widget.process_data(payload)
    assert out["data"]["labels"] == ["2026-03-01", "2026-03-02"]
    assert out["data"]["datasets"][0]["data"] == [2.0, 2.5]
    assert widget.process_data({**payload, "rates": []}) == {"empty": True}
    with pytest.raises(WidgetDataError, match="respuesta inválida"):
        widget.process_data({"base": "EUR", "rates": "x"})
    with pytest.raises(WidgetDataError):
        widget.process_data(["not", "a", "dict"])
