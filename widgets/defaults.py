"""The starting dashboard's widgets and layout (every new tenant), plus the demo's extras.

`create-tenant` installs DEFAULT_WIDGET_ROWS and DEFAULT_LAYOUT; `seed-demo` adds the demo-only
rows (DEMO_EXTRA_WIDGET_ROWS, fed by the engine's own demo providers) and uses DEMO_LAYOUT.

Layout scheme: DEFAULT_LAYOUT is the JSON list stored in `dashboard_layouts.items`; each item
is `{"widget": S, "w": W, "h": H}` where S is the `sort_order` of a `Widget_catalog` row (unique
among the defaults; resolved to the row's id when installed, see core/layout_ids.py), W the
width in columns of a 12-column grid (phones stack every card full width) and H the height in
rows (1 = KPI-card height, 2 = chart height). Items render in list order; w and h are optional
(the widget class's default size). See widgets/layout.py.
"""

from __future__ import annotations

from typing import Any

DEFAULT_WIDGET_ROWS: list[dict[str, Any]] = [
    {"class_name": "KpiWidget", "title": "Unidades producidas", "config": {"metric": "units"},
     "sort_order": 10},
    {"class_name": "KpiWidget", "title": "Kilogramos", "config": {"metric": "kg"}, "sort_order": 20},
    {"class_name": "KpiWidget", "title": "Tasa de rechazo", "config": {"metric": "reject_rate"},
     "sort_order": 30},
    {"class_name": "ProductionOverTimeWidget", "title": "Producción por línea en el tiempo",
     "config": {"bucket": "auto"}, "sort_order": 40},
    {"class_name": "ProductionByLineWidget", "title": "Producción por línea", "config": {},
     "sort_order": 50},
    {"class_name": "ProductMixWidget", "title": "Mix de productos", "config": {"top_n": 6},
     "sort_order": 60},
    {"class_name": "LineSummaryWidget", "title": "Resumen por línea", "config": {}, "sort_order": 70},
]

DEMO_EXTRA_WIDGET_ROWS: list[dict[str, Any]] = [
    {"class_name": "ExchangeRateWidget", "title": "Cotización del dólar",
     "config": {"api": "fx_rates", "base": "USD", "quote": "ARS"}, "sort_order": 80},
    {"class_name": "PlanVsActualWidget", "title": "Plan vs. real (ERP demo)",
     "config": {"api": "erp_plans"}, "sort_order": 83},
    {"class_name": "OpenOrdersWidget", "title": "Órdenes abiertas (ERP demo)",
     "config": {"api": "erp_orders"}, "sort_order": 86},
]

DEFAULT_LAYOUT: list[dict[str, int]] = [
    {"widget": 10, "w": 4, "h": 1},
    {"widget": 20, "w": 4, "h": 1},
    {"widget": 30, "w": 4, "h": 1},
    {"widget": 40, "w": 12, "h": 2},
    {"widget": 50, "w": 6, "h": 2},
    {"widget": 60, "w": 6, "h": 2},
    {"widget": 70, "w": 12, "h": 2},
]

DEMO_LAYOUT: list[dict[str, int]] = [
    *DEFAULT_LAYOUT[:-1],
    {"widget": 70, "w": 6, "h": 2},
    {"widget": 80, "w": 6, "h": 2},
    {"widget": 83, "w": 6, "h": 2},
    {"widget": 86, "w": 6, "h": 2},
]
