"""The widget shapes: what JSON a widget of each shape returns, its template, and its table form.

A shape is the contract between a widget's `process_data` and the page: the partial
`partials/widgets/_<shape>.html` renders it and `rows(data)` turns the same JSON into a header
and plain rows (CSV exports, tests). A widget class naming an unregistered shape is refused at
registration, so a typo never reaches a user's request. Plugins register their own shapes with
`register_shape` before registering the widgets that use them.

Every `rows` function accepts the empty answer (`{"empty": True}`) and returns its header with
no rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import RegistryError

Table = tuple[list[str], list[list[Any]]]
RowsFunction = Callable[[dict[str, Any]], Table]


@dataclass(frozen=True)
class ShapeSpec:
    """One shape: its name (the template's suffix) and how its JSON becomes table rows."""

    name: str
    rows: RowsFunction

    @property
    def template(self) -> str:
        """The Jinja partial that renders this shape's JSON on a card."""
        return f"partials/widgets/_{self.name}.html"


_SHAPES: dict[str, ShapeSpec] = {}


def register_shape(name: str, rows: RowsFunction) -> ShapeSpec:
    """Declare a shape; registering the same name twice with another function is an error."""
    existing = _SHAPES.get(name)
    if existing is not None and existing.rows is not rows:
        raise RegistryError(f"duplicate widget shape {name!r}")
    spec = ShapeSpec(name, rows)
    _SHAPES[name] = spec
    return spec


def get_shape(name: str) -> ShapeSpec:
    """The registered shape `name`, or a RegistryError listing the known ones."""
    try:
        return _SHAPES[name]
    except (KeyError, TypeError):
        raise RegistryError(f"unknown widget shape {name!r} (known: {', '.join(shape_names())})") from None


def shape_names() -> list[str]:
    """Every registered shape name, sorted."""
    return sorted(_SHAPES)


def table_of(shape: str, data: dict[str, Any] | None) -> Table:
    """(header, rows) of one widget's JSON answer, whatever its shape."""
    return get_shape(shape).rows(data or {"empty": True})


def _is_empty(data: dict[str, Any]) -> bool:
    return bool(data.get("empty"))


def kpi_rows(data: dict[str, Any]) -> Table:
    """One row: value and unit, plus the previous period and the change when the card has them."""
    header = ["Valor", "Unidad"]
    compared = "previous" in data
    if compared:
        header += ["Periodo anterior", "Variación %"]
    if _is_empty(data):
        return header, []
    row = [data.get("value"), data.get("unit", "")]
    if compared:
        row += [data.get("previous"), data.get("change_pct")]
    return header, [row]


def chart_rows(data: dict[str, Any]) -> Table:
    """One row per label: the label, then each dataset's value at that label."""
    if _is_empty(data) or "data" not in data:
        return ["Etiqueta"], []
    body = data["data"]
    datasets = body.get("datasets", [])
    header = ["Etiqueta", *[str(d.get("label", "")) for d in datasets]]
    rows = [[label, *[_at(d.get("data", []), i) for d in datasets]]
            for i, label in enumerate(body.get("labels", []))]
    return header, rows


def _at(values: list[Any], index: int) -> Any:
    return values[index] if index < len(values) else None


def table_rows(data: dict[str, Any]) -> Table:
    """The table's own columns and rows."""
    header = [str(c["label"]) for c in data.get("columns", [])]
    return header, ([] if _is_empty(data) else [list(r) for r in data.get("rows", [])])


TIMELINE_HEADER = ["Línea", "Estado", "Inicio", "Fin", "Minutos"]


def timeline_rows(data: dict[str, Any]) -> Table:
    """One row per period of the Gantt: line, state, start, end (ISO plant time), minutes."""
    if _is_empty(data):
        return list(TIMELINE_HEADER), []
    names = {lane["key"]: lane["name"] for lane in data.get("lanes", [])}
    kinds = {k["key"]: k["label"] for k in data.get("kinds", [])}
    rows = [[names.get(p["lane"], p["lane"]), kinds.get(p["kind"], p["kind"]), p["start"], p["end"],
             p["minutes"]] for p in data.get("periods", [])]
    return list(TIMELINE_HEADER), rows


STATUS_HEADER = ["Línea", "Estado", "Última detección", "Turno", "Unidades del turno", "Objetivo"]


def status_rows(data: dict[str, Any]) -> Table:
    """One row per line of the live status board."""
    if _is_empty(data):
        return list(STATUS_HEADER), []
    rows = [[s["name"], s["label"], s["last_detection"], s["shift"], s["units_shift"], s["target"]]
            for s in data.get("lines", [])]
    return list(STATUS_HEADER), rows


def heatmap_rows(data: dict[str, Any]) -> Table:
    """One row per row label, one column per column label."""
    if _is_empty(data):
        return [""], []
    header = [str(data.get("corner", "")), *[str(c) for c in data.get("columns", [])]]
    pairs = zip(data.get("rows", []), data.get("values", []), strict=False)
    rows = [[label, *values] for label, values in pairs]
    return header, rows


for _name, _rows in (("kpi", kpi_rows), ("chart", chart_rows), ("table", table_rows),
                     ("timeline", timeline_rows), ("status", status_rows), ("heatmap", heatmap_rows)):
    register_shape(_name, _rows)
