"""A simulated plant and an example gateway client of the ingestion API.

`PlantSimulator` turns a plant YAML (the lines' ideal rates and thresholds, their products and
nominal weights) into detections up to "now" of an injected clock: near-ideal rates with jitter,
micro-stops, an occasional stop, a few rejects; a paused line simply stops producing. It knows
nothing of databases: `GatewayClient` posts its batches to `POST /api/v1/ingest/detections`
with an ingest key, as a PLC bridge would, resending a batch after a timeout (safe: batches are
idempotent). Timestamps are sent in UTC with a `Z`, so the gateway needs no plant timezone.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from core.clock import Clock
from ingest.plant_metadata import PlantIn

log = logging.getLogger(__name__)
BATCH_ROWS = 1000


@dataclass
class SimLine:
    code: str
    ideal_rate_per_min: float
    micro_stop_s: int
    stop_threshold_s: int
    products: list[tuple[str, float]]
    next_at: datetime | None = None
    product: int = 0

    @property
    def cycle_s(self) -> float:
        return 60.0 / self.ideal_rate_per_min


@dataclass
class Incidents:
    """How often units are followed by a micro-stop or a stop, and how often one is rejected."""

    micro_stop_per_unit: float = 1 / 250
    stop_per_hour: float = 0.4
    reject_ratio: float = 0.015
    product_change_per_unit: float = 1 / 3000


QUIET = Incidents(micro_stop_per_unit=0.0, stop_per_hour=0.0)


@dataclass
class PlantSimulator:
    """Detections of every unpaused line from where it left off up to the clock's now."""

    lines: dict[str, SimLine]
    clock: Clock
    seed: int = 0
    incidents: Incidents = field(default_factory=Incidents)
    paused: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @classmethod
    def from_plant(cls, plant: PlantIn, clock: Clock, *, only: Iterable[str] = (), seed: int = 0,
                   incidents: Incidents | None = None) -> PlantSimulator:
        """Lines (all active ones, or `only`) with the products the plant file puts on them."""
        wanted = set(only)
        lines = {}
        for line in plant.lines:
            if not line.active or (wanted and line.code not in wanted):
                continue
            products = [(p.code, p.nominal_weight_g) for p in plant.products
                        if p.active and line.code in p.lines]
            if products:
                lines[line.code] = SimLine(line.code, line.ideal_rate_per_min, line.micro_stop_s,
                                           line.stop_threshold_s, products)
        return cls(lines, clock, seed, incidents or Incidents())

    def start_at(self, moment: datetime) -> None:
        """Produce from `moment` (aware) on, e.g. a few minutes back to fill the view at once."""
        for line in self.lines.values():
            line.next_at = moment.astimezone(UTC)

    def pause(self, code: str) -> None:
        self.paused.add(code)

    def resume(self, code: str) -> None:
        self.paused.discard(code)

    def _gap_after_unit(self, line: SimLine) -> float:
        inc, rng = self.incidents, self.rng
        gap = line.cycle_s * max(0.5, rng.gauss(1.06, 0.08))
        if inc.stop_per_hour and rng.random() < inc.stop_per_hour / (line.ideal_rate_per_min * 60):
            return gap + rng.uniform(1.5, 5.0) * line.stop_threshold_s
        if rng.random() < inc.micro_stop_per_unit:
            return gap + rng.uniform(line.micro_stop_s, 0.9 * line.stop_threshold_s)
        return gap

    def _unit(self, line: SimLine, at: datetime) -> dict[str, object]:
        rng = self.rng
        if rng.random() < self.incidents.product_change_per_unit:
            line.product = rng.randrange(len(line.products))
        code, nominal = line.products[line.product % len(line.products)]
        return {"line": line.code, "ts": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "product_code": code, "weight_g": round(nominal * rng.gauss(1.01, 0.008), 1),
                "status": "reject" if rng.random() < self.incidents.reject_ratio else "ok"}

    def collect(self) -> list[dict[str, object]]:
        """Every detection due up to now, in time order per line; paused lines skip ahead."""
        now = self.clock.now_utc()
        out: list[dict[str, object]] = []
        for line in self.lines.values():
            if line.next_at is None:
                line.next_at = now
            if line.code in self.paused:
                line.next_at = max(line.next_at, now)
                continue
            while line.next_at <= now:
                at = line.next_at.replace(microsecond=line.next_at.microsecond // 1000 * 1000)
                out.append(self._unit(line, at))
                line.next_at += timedelta(seconds=self._gap_after_unit(line))
        return out


class GatewayClient:
    """Posts batches to the ingestion API; retries transport errors and 5xx/429 with backoff."""

    def __init__(self, base_url: str, key: str, *, http: httpx.Client | None = None,
                 retries: int = 4) -> None:
        self.url = base_url.rstrip("/") + "/api/v1/ingest/detections"
        self.headers = {"Authorization": f"Bearer {key}"}
        self.http = http or httpx.Client(timeout=30.0)
        self.retries = retries

    def post(self, detections: list[dict[str, object]]) -> int:
        """Send in batches of BATCH_ROWS; returns rows inserted. A 4xx is logged and dropped."""
        inserted = 0
        for i in range(0, len(detections), BATCH_ROWS):
            inserted += self._send({"detections": detections[i:i + BATCH_ROWS]})
        return inserted

    def _send(self, body: dict[str, object]) -> int:
        for attempt in range(self.retries + 1):
            try:
                r = self.http.post(self.url, json=body, headers=self.headers)
            except httpx.TransportError as exc:
                log.warning("ingest: %s, retrying", exc.__class__.__name__)
            else:
                if r.status_code == 200:
                    return int(r.json()["rows_inserted"])
                if r.status_code < 500 and r.status_code != 429:
                    log.error("ingest refused the batch: %s %s", r.status_code, r.text[:300])
                    return 0
                log.warning("ingest answered %s, retrying", r.status_code)
            time.sleep(min(10.0, 0.5 * 2 ** attempt))
        log.error("ingest: batch dropped after %d attempts", self.retries + 1)
        return 0

    def close(self) -> None:
        self.http.close()
