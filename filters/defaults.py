"""The demo dashboard's filters, as `Filters` rows (seed-demo inserts them; labels in Spanish)."""

from __future__ import annotations

DEFAULT_FILTER_ROWS: list[dict] = [
    {
        "class_name": "DateRangeFilter", "param_name": "fecha", "label": "Fecha",
        "config": {"default_preset": "ultimos_7_dias", "max_days": 366}, "sort_order": 10,
    },
    {
        "class_name": "LineFilter", "param_name": "lineas", "label": "Líneas",
        "config": {}, "sort_order": 20,
    },
    {
        "class_name": "AreaFilter", "param_name": "areas", "label": "Áreas",
        "config": {}, "sort_order": 30,
    },
    {
        "class_name": "ProductFilter", "param_name": "productos", "label": "Productos",
        "config": {"depends_on": ["lineas", "areas"]}, "sort_order": 40,
    },
    {
        "class_name": "ShiftFilter", "param_name": "turnos", "label": "Turnos",
        "config": {}, "sort_order": 50,
    },
    {
        "class_name": "ToggleFilter", "param_name": "incluir_rechazos", "label": "Incluir rechazos",
        "config": {"effect": "incluir_rechazos", "default": True}, "sort_order": 60,
    },
    {
        "class_name": "NumericRangeFilter", "param_name": "peso", "label": "Peso (g)",
        "config": {"column": "weight_g", "unit": "g", "min": 0, "step": 0.1}, "sort_order": 70,
    },
]
