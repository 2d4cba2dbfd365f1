"""Would a `Widget_catalog` row build? One answer for the admin API and the dashboard run.

A row builds when it names a registered widget class, its config is a JSON object the class
accepts, and what the widget reads from the detections is a valid need (known columns, columns
that exist per detection only with `raw_rows`, known measures, always `units`). The admin API
refuses a row with the very message the run shows on that widget's card, so a row the admin
accepted never fails to build in the run for a reason the admin did not check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import InvalidDefinition, RegistryError
from query.grain import FrameNeed, check_need
from widgets import widget_registry
from widgets.base import BaseWidget, WidgetContext


def widget_class_names() -> list[str]:
    """The registered names a `Widget_catalog` row may use as its class."""
    return [n for n in widget_registry.names() if issubclass(widget_registry.get(n), BaseWidget)]


def frame_need(widget: BaseWidget) -> FrameNeed:
    """What the widget reads from the detections (its columns may be empty: none)."""
    return FrameNeed(widget.columns(), widget.measure_columns(), widget.raw_rows)


def build_widget(row: Mapping[str, Any], context: WidgetContext | None = None) -> BaseWidget:
    """The row's widget, or InvalidDefinition saying in Spanish why it would not build."""
    name = row.get("class_name")
    if not isinstance(name, str) or name not in widget_registry \
            or not issubclass(widget_registry.get(name), BaseWidget):
        raise InvalidDefinition(f"la clase de widget «{str(name)[:64]}» no está registrada")
    config = row.get("config")
    if not isinstance(config, dict | None):
        raise InvalidDefinition("la configuración debe ser un objeto JSON")
    try:
        widget = widget_registry.get(name)(widget_id=row.get("id") or 0, title=str(row.get("title") or ""),
                                           config=config, context=context)
        check_need(frame_need(widget))
    except (RegistryError, ValueError) as exc:
        raise InvalidDefinition(f"configuración no válida: {getattr(exc, 'message', exc)}") from None
    return widget


def row_problem(row: Mapping[str, Any]) -> str | None:
    """Why the run would not build this row (None when it would)."""
    try:
        build_widget(row)
    except InvalidDefinition as exc:
        return exc.message
    return None
