"""Times in engine answers, typed so that each one matches what the OpenAPI document says.

The databases keep naive datetimes: instants in UTC (created_at, job runs, audit) and plant-local
wall times (detections, stops). A naive value sent as is claims `format: date-time` but has no
offset, which RFC 3339 requires. `UtcTime` attaches UTC to a naive instant; `PlantLocalTime`
keeps the plant's wall time and says so in the schema (an ISO local date-time, no offset).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


UtcTime = Annotated[datetime, AfterValidator(_as_utc)]

PlantLocalTime = Annotated[datetime, WithJsonSchema({
    "type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$",
    "description": "plant-local wall time, ISO 8601 without offset"})]
