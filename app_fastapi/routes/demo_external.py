"""A small demo "external" provider inside the engine: deterministic daily exchange rates.

It stands in for a third-party API so the external-widget path (manifest, httpx, timeouts)
runs for real in the demo. No tenant data, so no token: anyone may read it. Future days have
no rate, as with a real provider.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app_fastapi.demo_days import checked_days
from app_fastapi.deps import IsoDay, RuntimeDep
from core.errors import ValidationFailed

router = APIRouter(prefix="/demo", tags=["demo provider"])

EPOCH = date(2024, 1, 1)
PAIRS = {("USD", "ARS"): 850.0, ("EUR", "ARS"): 930.0, ("USD", "EUR"): 0.92}


class Rate(BaseModel):
    date: date
    rate: float


class FxRates(BaseModel):
    base: str
    quote: str
    rates: list[Rate]


def demo_rate(base: str, quote: str, day: date) -> float:
    """A smooth, deterministic series: slow drift plus a weekly wiggle."""
    start = PAIRS[(base, quote)]
    n = (day - EPOCH).days
    return round(start * (1 + 0.0015 * n) * (1 + 0.004 * math.sin(n / 1.7)), 2)


@router.get("/fx-rates", response_model=FxRates)
def fx_rates(
    rt: RuntimeDep,
    base: Annotated[str, Query(pattern=r"^[A-Z]{3}$")] = "USD",
    quote: Annotated[str, Query(pattern=r"^[A-Z]{3}$")] = "ARS",
    start: IsoDay | None = None,
    end: IsoDay | None = None,
) -> FxRates:
    """Daily rates for [start, end] (default: the last 7 days); none after today."""
    if (base, quote) not in PAIRS:
        raise ValidationFailed(f"unknown currency pair {base}/{quote}",
                               details=[{"field": "base", "message": "par no disponible"}])
    today = rt.clock.now_utc().date()
    end = end or today
    start = start or end - timedelta(days=6)
    days = checked_days(start, end, last=today)
    return FxRates(base=base, quote=quote, rates=[Rate(date=d, rate=demo_rate(base, quote, d)) for d in days])
