"""Application-side joins: turn the base frame into the master DataFrame using TenantMeta.

No SQL JOINs: names and codes come from the metadata cache as categoricals built with
`Categorical.from_codes` over an `Index.get_indexer` lookup (a few ms and ~1 byte per row per
column, against tens of ms and MBs for a `merge`). The shift of each row comes from two
1,440-entry tables indexed by the minute of day. `shift_date` is the *production* date: the day
(starting at the plant's production day start, e.g. 06:00) on which the row's shift instance
started, so the night shift's after-midnight minutes get the previous date; a row outside every
shift gets the production day it falls in. `production_day` is the date counted from the day
start alone (what day-bucketed charts use) and `hour_start` the clock hour. Timestamps are
naive wall time, so DST days need no special case.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from core.metadata_cache import TenantMeta
from query.columns import MASTER_COLUMNS, check_columns

MINUTES_PER_DAY = 1440
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000


MAX_LUT_KEY = 1 << 20


def _small_int(n: int) -> np.dtype:
    """The smallest signed integer dtype holding -1 .. n."""
    for dtype in (np.int8, np.int16, np.int32):
        if n < np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def _positions(keys: Sequence[int], values: np.ndarray) -> np.ndarray:
    """Index of each value in `keys` (-1 when absent), in the smallest integer dtype.

    Ids are small positive integers, so a direct lookup table (one slot per id, ~1 byte per
    row out) replaces a hash lookup that would return 8 bytes per row.
    """
    keys_arr = np.asarray(keys, dtype=np.int64)
    dtype = _small_int(len(keys_arr))
    if len(keys_arr) == 0:
        return np.full(len(values), -1, dtype=dtype)
    if keys_arr.min() < 0 or keys_arr.max() >= MAX_LUT_KEY:
        return pd.Index(keys_arr).get_indexer(values.astype(np.int64)).astype(dtype)
    lut = np.full(int(keys_arr.max()) + 2, -1, dtype=dtype)  # last slot: unknown ids
    lut[keys_arr] = np.arange(len(keys_arr), dtype=dtype)
    if len(values) and (values.min() < -1 or values.max() >= len(lut)):
        values = np.clip(values, -1, len(lut) - 1)  # out-of-range ids land on the -1 slots
    return lut[values]


def _categorical(pos: np.ndarray, labels: Sequence[str]) -> pd.Categorical:
    """Labels per key position → a categorical per row (missing key → NaN)."""
    if not labels:
        return pd.Categorical.from_codes(np.full(len(pos), -1, dtype=np.int8), categories=[])
    per_key, uniques = pd.factorize(pd.Index(list(labels)))
    lut = np.append(per_key, -1).astype(_small_int(len(uniques)))
    codes = lut[pos]  # pos == -1 picks the appended -1
    return pd.Categorical.from_codes(codes, categories=uniques, validate=False)


def _numbers(pos: np.ndarray, values: Sequence[float | int], dtype: np.dtype, missing: object) -> np.ndarray:
    lut = np.append(np.asarray(values, dtype=dtype), np.asarray([missing], dtype=dtype))
    return lut[pos]


def shift_tables(meta: TenantMeta) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(shift ids, shift position per minute of day (-1 = none), days back to the production date)."""
    ids = sorted(meta.shifts)
    day_start = int(meta.day_offset.total_seconds()) // 60
    shift_pos = np.full(MINUTES_PER_DAY, -1, dtype=_small_int(len(ids)))
    day_back = np.zeros(MINUTES_PER_DAY, dtype=np.int8)
    day_back[:day_start] = 1  # outside every shift: the production day the minute falls in
    for i, sid in enumerate(ids):
        shift = meta.shifts[sid]
        start, end = shift.start_minute, shift.end_minute
        # A shift starting before the day start (time of day) opens the previous production day.
        before = 1 if start < day_start else 0
        if shift.crosses_midnight:
            shift_pos[start:] = i
            shift_pos[:end] = i
            day_back[start:] = before
            day_back[:end] = 1 + before
        else:
            shift_pos[start:end] = i
            day_back[start:end] = before
    return ids, shift_pos, day_back


def _ms(ts: pd.Series) -> np.ndarray:
    """Milliseconds since the epoch as int64, a view of the column when it is datetime64[ms]."""
    return ts.to_numpy(dtype="datetime64[ms]").view(np.int64)


def _minute_of_day(ms: np.ndarray, block: int = 1 << 18) -> np.ndarray:
    """Minute of day (0..1439) as int16, computed in blocks so the int64 temporaries stay small."""
    out = np.empty(len(ms), dtype=np.int16)
    for i in range(0, len(ms), block):
        part = ms[i:i + block] // MS_PER_MINUTE
        np.remainder(part, MINUTES_PER_DAY, out=part)
        out[i:i + block] = part
    return out


class _Enricher:
    """Builds each requested master column once, sharing the lookups they have in common."""

    def __init__(self, base: pd.DataFrame, meta: TenantMeta) -> None:
        self.base = base
        self.meta = meta
        self._cache: dict[str, np.ndarray] = {}

    def _memo(self, key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def line_pos(self) -> np.ndarray:
        ids = self.base["line_id"].to_numpy()
        return self._memo("line", lambda: _positions(sorted(self.meta.lines), ids))

    def area_pos(self) -> np.ndarray:
        def make() -> np.ndarray:
            lines = [self.meta.lines[i] for i in sorted(self.meta.lines)]
            area_ids = sorted(self.meta.areas)
            per_line = _positions(area_ids, np.asarray([ln.area_id for ln in lines], dtype=np.int64))
            return np.append(per_line, -1)[self.line_pos()]
        return self._memo("area", make)

    def product_pos(self) -> np.ndarray:
        return self._memo(
            "product", lambda: _positions(sorted(self.meta.products), self.base["product_id"].to_numpy())
        )

    def minute_ms(self) -> tuple[np.ndarray, np.ndarray]:
        ms = self._memo("ms", lambda: _ms(self.base["ts"]))
        minute = self._memo("minute", lambda: _minute_of_day(ms))
        return ms, minute

    def column(self, name: str) -> object:
        meta, base = self.meta, self.base
        lines = [meta.lines[i] for i in sorted(meta.lines)]
        areas = [meta.areas[i] for i in sorted(meta.areas)]
        products = [meta.products[i] for i in sorted(meta.products)]
        if name in ("ts", "weight_g", "status", "line_id", "product_id"):
            return base[name].to_numpy()
        if name == "is_reject":
            return base["status"].to_numpy() == 1
        if name in ("line_code", "line_name"):
            attr = name.split("_")[1]
            return _categorical(self.line_pos(), [getattr(ln, attr) for ln in lines])
        if name == "area_id":
            return _numbers(self.line_pos(), [ln.area_id for ln in lines], np.dtype(np.int16), -1)
        if name in ("area_code", "area_name"):
            attr = name.split("_")[1]
            return _categorical(self.area_pos(), [getattr(a, attr) for a in areas])
        if name in ("product_code", "product_name"):
            attr = name.split("_")[1]
            return _categorical(self.product_pos(), [getattr(p, attr) for p in products])
        if name == "nominal_weight_g":
            return _numbers(
                self.product_pos(), [p.nominal_weight_g for p in products], np.dtype(np.float32), np.nan
            )
        return self.shift_column(name)

    def shift_column(self, name: str) -> object:
        if name in ("hour_start", "production_day"):
            return self.time_bucket(name)
        ids, shift_pos, day_back = shift_tables(self.meta)
        ms, minute = self.minute_ms()
        pos = shift_pos[minute]
        if name == "shift_date":
            days = ms // MS_PER_DAY
            np.subtract(days, day_back[minute], out=days)
            np.multiply(days, MS_PER_DAY, out=days)
            return days.view("datetime64[ms]")
        shifts = [self.meta.shifts[i] for i in ids]
        if name == "shift_id":
            values = np.append(np.asarray(ids, dtype=np.int16), np.int16(0))[pos]
            return pd.arrays.IntegerArray(values, pos < 0)
        attr = name.split("_")[1]
        return _categorical(pos, [getattr(s, attr) for s in shifts])


    def time_bucket(self, name: str) -> np.ndarray:
        """`hour_start`: the clock hour holding the row; `production_day`: midnight of the
        production date counted from the day start alone (shifts ignored), as the charts do."""
        ms = self._memo("ms", lambda: _ms(self.base["ts"]))
        if name == "hour_start":
            return (ms - ms % MS_PER_HOUR).view("datetime64[ms]")
        offset = int(self.meta.day_offset.total_seconds()) * 1000
        shifted = ms - offset
        return (shifted - shifted % MS_PER_DAY).view("datetime64[ms]")


def enrich(base: pd.DataFrame, meta: TenantMeta, columns: set[str] | frozenset[str]) -> pd.DataFrame:
    """The master DataFrame with exactly `columns` (in vocabulary order) from the base frame."""
    wanted = check_columns(columns)
    enricher = _Enricher(base, meta)
    data = {name: enricher.column(name) for name in MASTER_COLUMNS if name in wanted}
    return pd.DataFrame(data, index=pd.RangeIndex(len(base)), copy=False)
