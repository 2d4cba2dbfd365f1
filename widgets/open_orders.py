"""Table: the ERP's open production orders with their progress."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from widgets._erp import ConfiguredApiWidget, api_id_field, invalid_payload
from widgets.base import widget_registry

COLUMNS = [
    {"key": "id", "label": "Orden", "decimals": None},
    {"key": "line", "label": "Línea", "decimals": None},
    {"key": "product", "label": "Producto", "decimals": None},
    {"key": "due", "label": "Entrega", "decimals": None},
    {"key": "quantity", "label": "Cantidad", "decimals": 0},
    {"key": "produced", "label": "Producido", "decimals": 0},
    {"key": "progress", "label": "Avance %", "decimals": 1},
]


class OpenOrdersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api: str = api_id_field("erp_orders")
    limit: int = Field(default=12, ge=1, le=100)


class _Order(BaseModel):
    id: str
    line: str
    product_name: str
    quantity: int = Field(gt=0)
    produced: int = Field(ge=0)
    due: date


class _Orders(BaseModel):
    orders: list[_Order]


@widget_registry.register
class OpenOrdersWidget(ConfiguredApiWidget):
    """Orders not yet complete, earliest due date first, at most `limit` rows."""

    shape = "table"
    config_model = OpenOrdersConfig
    default_size = (6, 2)

    def api_params(self) -> dict[str, str]:
        return {"status": "open"}

    def process_data(self, data: Any) -> dict[str, Any]:
        """Validate the payload; progress = produced / quantity."""
        try:
            orders = _Orders.model_validate(data).orders
        except ValidationError as exc:
            raise invalid_payload(exc) from None
        open_orders = sorted((o for o in orders if o.produced < o.quantity), key=lambda o: (o.due, o.id))
        if not open_orders:
            return self.empty_result()
        rows = [[o.id, o.line, o.product_name, o.due.isoformat(), o.quantity, o.produced,
                 100.0 * o.produced / o.quantity] for o in open_orders[: self.config.limit]]
        return {"columns": COLUMNS, "rows": rows}
