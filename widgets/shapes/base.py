"""What a widget shape is: a name (its template's suffix) and how its JSON becomes table rows.

A shape is the contract between a widget's `process_data` and the page: the partial
`partials/widgets/_<shape>.html` renders the JSON on a card, and `rows(data)` turns the same
JSON into a header and plain rows (CSV exports, tests). Each shape lives in its own module and
registers itself with `@shape("name")` on its rows function; a widget class naming a shape that
is not registered is refused at registration, so a typo never reaches a user's request.

Every rows function accepts the empty answer (`{"empty": True}`) and returns its header with
no rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.registry import Registry, name_attribute

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


shape_registry: Registry[ShapeSpec] = Registry("widget shape", key=name_attribute,
                                               entry_point_group="camet.shapes")


def shape(name: str) -> Callable[[RowsFunction], RowsFunction]:
    """Decorator of a rows function: registers the shape `name` it belongs to."""

    def add(rows: RowsFunction) -> RowsFunction:
        shape_registry.register(ShapeSpec(name, rows))
        return rows

    return add


def get_shape(name: str) -> ShapeSpec:
    """The registered shape `name`, or a RegistryError listing the known ones."""
    return shape_registry.get(name)


def shape_names() -> list[str]:
    """Every registered shape name, sorted."""
    return shape_registry.names()


def table_of(name: str, data: dict[str, Any] | None) -> Table:
    """(header, rows) of one widget's JSON answer, whatever its shape."""
    return get_shape(name).rows(data or {"empty": True})


def is_empty(data: dict[str, Any]) -> bool:
    """True for the "sin datos" answer of any shape."""
    return bool(data.get("empty"))
