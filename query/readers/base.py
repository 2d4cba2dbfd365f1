"""The reader interface: run a planned DetectionQuery and return a compact base DataFrame.

Every reader returns the same frame for the same query: the query's source columns with the
dtypes of SOURCE_DTYPES, rows in the order the database sends them. Readers differ only in
speed and in what they need installed; `query.readers.select_reader` picks the fastest one
available for the backend.
"""

from __future__ import annotations

import importlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sqlalchemy.engine import URL, Connection

from core.db import DbGuard
from core.errors import TooManyRows
from core.memory import paused_gc
from core.query_state import EngineCache
from core.registry import Registry, name_attribute
from query.builder import DetectionQuery

SOURCE_DTYPES: dict[str, Any] = {
    "ts": np.dtype("datetime64[ms]"),
    "line_id": np.dtype(np.int16),
    "product_id": np.dtype(np.int32),
    "weight_g": np.dtype(np.float32),
    "status": np.dtype(np.int8),
}


@dataclass
class ReadContext:
    """What a reader gets: the planned query, how to connect, and the limits to enforce."""

    query: DetectionQuery
    url: URL
    connect: Callable[[], AbstractContextManager[Connection]]
    timeout_s: float
    max_rows: int
    chunk_rows: int = 100_000
    mariadb: bool = True  # MySQL servers: which statement time limit applies
    engines: EngineCache = field(default_factory=EngineCache)  # the runtime's, for extra drivers
    guard: DbGuard = field(default_factory=DbGuard)  # the runtime's waits and server circuits


@dataclass
class ReadResult:
    frame: pd.DataFrame
    rows: int
    timings: dict[str, float] = field(default_factory=dict)


class BaseReader(ABC):
    """One way to read rows; subclasses declare `name`, `rank` (lower is faster), `backends`,
    and join `reader_registry` with `@reader_registry.register`."""

    name: ClassVar[str]
    rank: ClassVar[int]
    backends: ClassVar[frozenset[str]]
    driver_module: ClassVar[str | None] = None  # optional package the reader needs
    # False: the driver may hold the whole process (the GIL) while the server does not answer,
    # so its wait cannot be bounded; dashboards never pick it, only a caller naming it does.
    bounded_waits: ClassVar[bool] = True

    @classmethod
    def installed(cls) -> bool:
        """True when the reader's driver can be imported on this host."""
        if cls.driver_module is None:
            return True
        try:
            importlib.import_module(cls.driver_module)
        except ImportError:
            return False
        return True

    @abstractmethod
    def read(self, ctx: ReadContext) -> ReadResult:
        """Run the query; raise TooManyRows past ctx.max_rows and QueryTimeout past the limit."""


reader_registry: Registry[type[BaseReader]] = Registry("reader", key=name_attribute)


def empty_frame(columns: Sequence[str]) -> pd.DataFrame:
    """A zero-row base frame with the canonical dtypes."""
    return pd.DataFrame({c: np.empty(0, dtype=SOURCE_DTYPES[c]) for c in columns})


def to_array(name: str, values: Sequence[Any]) -> np.ndarray:
    """One column of raw driver values as its compact dtype (NULL weight → NaN)."""
    dtype = SOURCE_DTYPES[name]
    if name == "weight_g":
        return np.array(values, dtype=np.float64).astype(dtype)
    return np.array(values, dtype=dtype)


def convert_rows(columns: Sequence[str], rows: list[tuple]) -> list[np.ndarray]:
    """A chunk of row tuples → one compact array per column."""
    return [to_array(name, values) for name, values in zip(columns, zip(*rows, strict=True), strict=True)]


def assemble(columns: Sequence[str], chunks: list[list[np.ndarray]]) -> pd.DataFrame:
    """Concatenate converted chunks into the base frame (chunks are consumed)."""
    if not chunks:
        return empty_frame(columns)
    data = {}
    for i, name in enumerate(columns):
        parts = [chunk[i] for chunk in chunks]
        data[name] = parts[0] if len(parts) == 1 else np.concatenate(parts)
        for chunk in chunks:
            chunk[i] = None  # type: ignore[call-overload]
    chunks.clear()
    return pd.DataFrame(data, copy=False)


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def too_many_rows(max_rows: int, rows: int | None = None) -> TooManyRows:
    """The 413 error that asks the user to narrow the selection."""
    counted = _thousands(rows) if rows is not None else f"más de {_thousands(max_rows)}"
    return TooManyRows(
        f"La selección tiene {counted} detecciones; el límite es {_thousands(max_rows)}. "
        "Acotá el rango de fechas o elegí menos líneas.",
        details={"max_rows": max_rows, "rows": rows},
    )


def stream_cursor(cursor: Any, ctx: ReadContext, timings: dict[str, float]) -> ReadResult:
    """Fetch a DBAPI cursor in chunks, converting each chunk to compact arrays right away."""
    columns = ctx.query.columns
    chunks: list[list[np.ndarray]] = []
    rows = 0
    fetch = build = 0.0
    with paused_gc():
        while True:
            t0 = time.perf_counter()
            batch = cursor.fetchmany(ctx.chunk_rows)
            t1 = time.perf_counter()
            fetch += t1 - t0
            if not batch:
                break
            rows += len(batch)
            if rows > ctx.max_rows:
                raise too_many_rows(ctx.max_rows)
            chunks.append(convert_rows(columns, batch))
            del batch
            build += time.perf_counter() - t1
    t2 = time.perf_counter()
    frame = assemble(columns, chunks)
    timings["fetch"] = timings.get("fetch", 0.0) + fetch
    timings["dataframe"] = timings.get("dataframe", 0.0) + build + time.perf_counter() - t2
    return ReadResult(frame, rows, timings)


def execute_and_stream(conn: Connection, ctx: ReadContext,
                       close: Callable[[Any], None] = lambda result: result.close()) -> ReadResult:
    """Run the read's statement on `conn`, timing how long it takes to start, and stream it.

    `close` ends the result afterwards; a backend whose cancelled stream can leave the cursor
    unusable passes one that swallows the error.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    result = conn.execute(ctx.query.statement())
    timings["query"] = time.perf_counter() - t0
    try:
        return stream_cursor(result.cursor, ctx, timings)
    finally:
        close(result)
