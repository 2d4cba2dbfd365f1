"""External widget: daily exchange rate over the selected dates, from the FX provider."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from widgets._chart import chart_json, dataset
from widgets._erp import ConfiguredApiWidget, api_id_field, invalid_payload
from widgets.base import widget_registry

CURRENCY = r"^[A-Z]{3}$"


class ExchangeRateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api: str = api_id_field("fx_rates")
    base: str = Field(default="USD", pattern=CURRENCY)
    quote: str = Field(default="ARS", pattern=CURRENCY)


class _Rate(BaseModel):
    date: date
    rate: float = Field(gt=0)


class _Payload(BaseModel):
    base: str
    quote: str
    rates: list[_Rate]


@widget_registry.register
class ExchangeRateWidget(ConfiguredApiWidget):
    """A line of one currency pair's daily rate; the provider gives no rate for future days."""

    shape = "chart"
    config_model = ExchangeRateConfig
    default_size = (6, 2)

    def api_params(self) -> dict[str, str]:
        """Currency pair and the applied window as inclusive production dates."""
        params = {"base": self.config.base, "quote": self.config.quote}
        days = self.context.production_days()
        if days is not None:
            params["start"], params["end"] = days[0].isoformat(), days[1].isoformat()
        return params

    def process_data(self, data: Any) -> dict[str, Any]:
        """Validate the payload's shape, then one dataset of rates by date."""
        try:
            payload = _Payload.model_validate(data)
        except ValidationError as exc:
            raise invalid_payload(exc) from None
        if not payload.rates:
            return self.empty_result()
        rates = sorted(payload.rates, key=lambda r: r.date)
        labels = [r.date.isoformat() for r in rates]
        label = f"{payload.quote} por {payload.base}"
        return chart_json("line", labels, [dataset(label, [r.rate for r in rates])],
                          last=rates[-1].rate)
