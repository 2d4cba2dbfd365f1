"""Dashboard widgets: one module per widget class, registered by name in `widget_registry`.

`Widget_catalog.class_name` is resolved only against this registry (plus entry points in the
"camet.widgets" group), never imported from a dotted path.
"""

from widgets import (  # noqa: F401  (modules register themselves on import)
    downtime_cards,
    exchange_rate,
    hour_heatmap,
    kpi,
    line_status_board,
    line_summary,
    oee_cards,
    open_orders,
    plan_vs_actual,
    product_mix,
    production_by_line,
    production_over_time,
    rate_vs_ideal,
    shift_comparison,
    stop_timeline,
    stops_pareto,
    top_products,
    weight_control,
    weight_histogram,
)
from widgets.base import widget_registry

__all__ = ["widget_registry"]
