"""What a filter contributes to the dashboard query; the query builder combines these.

A filter never writes SQL text: it names the lines it restricts to, the time window it keeps
(used for partition routing too), the `ts` ranges inside that window (shift instances), and/or a
predicate built with SQLAlchemy Core against one line's detections table, with bound parameters
only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Table

Predicate = Callable[[Table], ColumnElement[bool]]


@dataclass(frozen=True)
class SqlFragment:
    """One filter's contribution; every field is optional and they combine with AND."""

    predicate: Predicate | None = None
    line_ids: frozenset[int] | None = None
    time_range: tuple[datetime, datetime] | None = None  # [start, end) in plant local time
    # Sorted, disjoint [start, end) ranges the rows must fall in (any of them); `time_range` is
    # then their bounding window. The builder emits them as one sargable OR of `ts` ranges.
    time_ranges: tuple[tuple[datetime, datetime], ...] | None = None
