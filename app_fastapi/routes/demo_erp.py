"""DEMO ONLY: an offline ERP inside the engine, deterministic from the demo plant's YAML.

It stands in for a real ERP so the plan-vs-actual and open-orders widgets work offline: daily
production plans per line and production orders with their progress. No tenant data, so no
token (like the demo FX provider); it is declared in config/external_apis.yml like any API.
"""

from __future__ import annotations

import zlib
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Query
from pydantic import BaseModel

from app_fastapi.demo_days import checked_days
from app_fastapi.deps import IsoDay, RuntimeDep
from core.clock import plant_now
from core.settings import PROJECT_ROOT

router = APIRouter(prefix="/demo/erp", tags=["demo provider"])

DEMO_PLANT = PROJECT_ROOT / "config" / "demo_plant.yml"
EFFICIENCY = 0.8  # the plan assumes 80 % of the ideal rate over the planned minutes
ORDER_DAYS = (-2, 6)  # orders due from two days ago to six days ahead


class Plan(BaseModel):
    date: date
    line: str
    planned_units: int


class Plans(BaseModel):
    demo: bool = True
    plans: list[Plan]


class Order(BaseModel):
    id: str
    line: str
    product_code: str
    product_name: str
    quantity: int
    produced: int
    due: date
    status: str


class Orders(BaseModel):
    demo: bool = True
    orders: list[Order]


@lru_cache(maxsize=1)
def demo_plant() -> dict[str, Any]:
    """Lines (code → ideal rate, products) and planned minutes per day of the demo plant."""
    raw = yaml.safe_load(DEMO_PLANT.read_text(encoding="utf-8"))
    minutes = 0
    for shift in raw["shifts"]:
        minutes += _span(shift["start"], shift["end"])
        minutes -= sum(_span(b["start"], b["end"]) for b in shift.get("breaks", []))
    products = {p["code"]: p for p in raw["products"]}
    lines = {
        line["code"]: {"rate": float(line["ideal_rate_per_min"]),
                       "products": [c for c, p in products.items() if line["code"] in p["lines"]]}
        for line in raw["lines"]
    }
    return {"lines": lines, "products": products, "minutes": minutes}


def _span(start: str, end: str) -> int:
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    return (h2 * 60 + m2 - h1 * 60 - m1) % (24 * 60)


def planned_units(line: str, day: date) -> int:
    """The day's plan: ideal rate × planned minutes × efficiency, lighter on weekends."""
    plant = demo_plant()
    factor = 0.7 if day.weekday() >= 5 else 1.0
    wiggle = 0.95 + (zlib.crc32(f"{line}{day}".encode()) % 100) / 1000.0
    return int(round(plant["lines"][line]["rate"] * plant["minutes"] * EFFICIENCY * factor * wiggle, -1))


@router.get("/plans", response_model=Plans)
def plans(rt: RuntimeDep, start: IsoDay | None = None, end: IsoDay | None = None) -> Plans:
    """One plan per line and production day in [start, end] (default: today)."""
    today = plant_now(rt.clock, rt.settings.default_timezone).date()
    start = start or today
    end = end or start
    days = checked_days(start, end)
    lines = sorted(demo_plant()["lines"])
    return Plans(plans=[Plan(date=d, line=c, planned_units=planned_units(c, d)) for d in days for c in lines])


@router.get("/orders", response_model=Orders)
def orders(rt: RuntimeDep, status: Annotated[str, Query(pattern="^(open|all)$")] = "open") -> Orders:
    """Production orders due around today; progress follows the plant clock through the day."""
    now = plant_now(rt.clock, rt.settings.default_timezone)
    out = [order for order in _orders(now) if status == "all" or order.produced < order.quantity]
    return Orders(orders=out)


def _orders(now: datetime) -> list[Order]:
    plant = demo_plant()
    today = now.date()
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = min(1.0, (now - day_start).total_seconds() / 86_400)
    out = []
    for offset in range(ORDER_DAYS[0], ORDER_DAYS[1] + 1):
        due = today + timedelta(days=offset)
        for code in sorted(plant["lines"]):
            choices = plant["lines"][code]["products"]
            product = plant["products"][choices[due.toordinal() % len(choices)]]
            quantity = planned_units(code, due)
            done = 1.0 if offset < 0 else (elapsed if offset == 0 else (0.1 if offset == 1 else 0.0))
            out.append(Order(
                id=f"OP-{due:%Y%m%d}-{code}", line=code, product_code=product["code"],
                product_name=product["name"], quantity=quantity, produced=int(quantity * done),
                due=due, status="cerrada" if done >= 1.0 else ("en curso" if done > 0 else "pendiente"),
            ))
    return out
