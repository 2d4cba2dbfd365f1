"""Widget shapes: one module per shape, each registering itself in `shape_registry`.

A new shape is one module here (a rows function decorated with `@shape("name")`) plus its
template `templates/partials/widgets/_<name>.html`, and one import line below. Plugins ship
both outside the product (their module imported by trusted code or the "camet.shapes" entry
point group, their template through `create_app(template_dirs=[...])`).
"""

from widgets.shapes import chart, heatmap, kpi, status, table, timeline  # noqa: F401  (registration)
from widgets.shapes.base import (
    RowsFunction,
    ShapeSpec,
    Table,
    get_shape,
    shape,
    shape_names,
    shape_registry,
    table_of,
)

__all__ = ["RowsFunction", "ShapeSpec", "Table", "get_shape", "shape", "shape_names", "shape_registry",
           "table_of"]
