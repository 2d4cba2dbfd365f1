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

# The plant manager's widgets: read stops and the shift report, not the frame.
PLANT_WIDGET_ROWS: list[dict[str, Any]] = [
    {"class_name": "OeeCardWidget", "title": "OEE", "config": {"metric": "oee"}, "sort_order": 110},
    {"class_name": "OeeCardWidget", "title": "Disponibilidad", "config": {"metric": "availability"},
     "sort_order": 111},
    {"class_name": "OeeCardWidget", "title": "Rendimiento", "config": {"metric": "performance"},
     "sort_order": 112},
    {"class_name": "OeeCardWidget", "title": "Calidad", "config": {"metric": "quality"}, "sort_order": 113},
    {"class_name": "DowntimeCardWidget", "title": "Paradas", "config": {"metric": "stops"},
     "sort_order": 120},
    {"class_name": "DowntimeCardWidget", "title": "Minutos detenidos", "config": {"metric": "downtime_min"},
     "sort_order": 121},
    {"class_name": "DowntimeCardWidget", "title": "Micro-paradas", "config": {"metric": "micro_stops"},
     "sort_order": 122},
    {"class_name": "DowntimeCardWidget", "title": "MTBF", "config": {"metric": "mtbf_min"},
     "sort_order": 123},
    {"class_name": "DowntimeCardWidget", "title": "MTTR", "config": {"metric": "mttr_min"},
     "sort_order": 124},
    {"class_name": "LineStatusWidget", "title": "Estado de las líneas ahora", "config": {},
     "sort_order": 130},
    {"class_name": "StopTimelineWidget", "title": "Marcha y paradas por línea", "config": {},
     "sort_order": 131},
    {"class_name": "StopsParetoWidget", "title": "Minutos de parada por línea (Pareto)",
     "config": {"by": "line"}, "sort_order": 132},
    {"class_name": "StopsParetoWidget", "title": "Minutos de parada por duración (Pareto)",
     "config": {"by": "band"}, "sort_order": 133},
    {"class_name": "StopsParetoWidget", "title": "Minutos de parada por motivo (Pareto)",
     "config": {"by": "reason"}, "sort_order": 136},
    {"class_name": "ShiftComparisonWidget", "title": "Comparación de turnos", "config": {},
     "sort_order": 134},
    {"class_name": "RateVsIdealWidget", "title": "Ritmo real vs. ideal por línea", "config": {},
     "sort_order": 135},
]

# Frame widgets of the plant manager: weights, hours, products. All read
# the grain (no raw rows), so the default dashboard keeps the database push-down;
# WeightHistogramWidget (every unit's weight) is in the registry for admins to add.
FRAME_WIDGET_ROWS: list[dict[str, Any]] = [
    {"class_name": "WeightControlWidget", "title": "Control de peso por producto", "config": {},
     "sort_order": 140},
    {"class_name": "HourHeatmapWidget", "title": "Unidades por hora y día de la semana", "config": {},
     "sort_order": 142},
    {"class_name": "TopProductsWidget", "title": "Productos principales", "config": {"top_n": 10},
     "sort_order": 143},
]

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
    *PLANT_WIDGET_ROWS,
    *FRAME_WIDGET_ROWS,
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
    {"widget": 110, "w": 3, "h": 1},
    {"widget": 111, "w": 3, "h": 1},
    {"widget": 112, "w": 3, "h": 1},
    {"widget": 113, "w": 3, "h": 1},
    {"widget": 120, "w": 3, "h": 1},
    {"widget": 121, "w": 3, "h": 1},
    {"widget": 122, "w": 2, "h": 1},
    {"widget": 123, "w": 2, "h": 1},
    {"widget": 124, "w": 2, "h": 1},
    {"widget": 131, "w": 12, "h": 2},
    {"widget": 40, "w": 12, "h": 2},
    {"widget": 130, "w": 6, "h": 2},
    {"widget": 134, "w": 6, "h": 2},
    {"widget": 132, "w": 6, "h": 2},
    {"widget": 133, "w": 6, "h": 2},
    {"widget": 136, "w": 6, "h": 2},
    {"widget": 50, "w": 6, "h": 2},
    {"widget": 135, "w": 6, "h": 2},
    {"widget": 60, "w": 6, "h": 2},
    {"widget": 143, "w": 6, "h": 2},
    {"widget": 140, "w": 12, "h": 2},
    {"widget": 142, "w": 12, "h": 2},
    {"widget": 70, "w": 12, "h": 2},
]

DEMO_LAYOUT: list[dict[str, int]] = [
    *DEFAULT_LAYOUT,
    {"widget": 80, "w": 6, "h": 2},
    {"widget": 83, "w": 6, "h": 2},
    {"widget": 86, "w": 6, "h": 2},
]
