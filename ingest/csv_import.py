"""Import a plant's historical detections for one line from CSV.

Format (README, "Detections CSV"): a header row with at least `ts` (ISO 8601, plant local time;
an explicit UTC offset is converted to the plant's timezone), `product_code`, `weight_g` (grams,
may be empty) and `status` (`ok` or `reject`); comma or semicolon separated, UTF-8. Other columns
are ignored. Every row is validated first; any bad row rejects the whole file (reported with
file line numbers) unless `skip_bad` is set. Rows outside the tenant's plausibility window
(core/plausibility.py) are bad rows too, unless an admin explicitly imports older history
(`history_from`). Rows are written in one transaction, and rows
already present are skipped, so importing the same file twice adds nothing. Before writing, the
import marks the derived data its rows change (core/derived_state.py: rollups and stops).
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import insert

from core import schema_tenant as t
from core.clock import Clock, plant_today
from core.db import DatabaseManager
from core.derived_state import mark_detections_written
from core.detection_tables import ensure_line_table
from core.errors import ImportRejected
from core.metadata_cache import TenantMeta, bump_metadata_version
from core.partitions import month_start
from core.plausibility import Plausibility, TsWindow, extended_history_start
from ingest.bulk_load import insert_detections
from ingest.plant_settings import set_plant_setting
from ingest.progress import Progress

REQUIRED = ("ts", "product_code", "weight_g", "status")
# The years the date filters can select (filters/date_range.py MIN_YEAR/MAX_YEAR).
MIN_YEAR, MAX_YEAR = 1970, 2999
MAX_REPORTED = 200
CHUNK = 100_000
# Row reasons of the plausibility window (upload_import.py translates them; the CLI's hint keys on TOO_OLD).
TOO_OLD = "ts before the plant's history start"
TOO_NEW = "ts in the future"


@dataclass
class ImportResult:
    rows_read: int
    rows_inserted: int
    rows_duplicate: int
    bad_rows: list[str] = field(default_factory=list)
    seconds: float = 0.0
    history_start: date | None = None  # set when this import moved the plant's history start back


def separator_of(first_line: str) -> str:
    """The file's separator: `;` (Spanish Excel) when the header has more of them than commas."""
    return ";" if first_line.count(";") > first_line.count(",") else ","


def missing_columns(first_line: str, required: tuple[str, ...] = REQUIRED) -> list[str]:
    """Required columns the header line lacks: lets an upload be refused before it is queued."""
    header = {h.strip().lower() for h in first_line.lstrip("\ufeff").strip().split(separator_of(first_line))}
    return [c for c in required if c not in header]


def read_csv(raw: bytes, required: tuple[str, ...] = REQUIRED) -> tuple[pd.DataFrame, list[str]]:
    """Rows as strings with their file line numbers, plus messages for rows of the wrong width.

    Shared with the ingestion API (CSV bodies), which also requires a `line` column.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(f"the file is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise ImportRejected("the file is empty")
    sep = separator_of(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
        missing = [c for c in required if c not in header]
        if missing:
            raise ImportRejected(
                f"missing column(s) {', '.join(missing)}: the header must include {', '.join(required)}"
            )
        width, rows, numbers, wrong = len(header), [], [], []
        for record in reader:
            if not record:
                continue
            if len(record) != width:
                wrong.append(f"line {reader.line_num}: expected {width} fields, found {len(record)}")
                continue
            rows.append(record)
            numbers.append(reader.line_num)
    except csv.Error as exc:
        raise ImportRejected(f"malformed CSV at line {reader.line_num}: {exc}") from None
    frame = pd.DataFrame(rows, columns=header, dtype=str)
    frame["__line"] = numbers
    if sep == ";":
        frame["weight_g"] = frame["weight_g"].str.replace(",", ".", regex=False)
    return frame, wrong


def _parse_ts(values: pd.Series, tz: str) -> pd.Series:
    """Naive plant-local timestamps; NaT where unparseable."""
    stripped = values.str.strip()
    has_offset = stripped.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    naive = ~has_offset
    if naive.any():
        parsed = pd.to_datetime(stripped[naive], format="ISO8601", errors="coerce")
        out[naive] = parsed.astype("datetime64[us]")
    if has_offset.any():
        aware = pd.to_datetime(stripped[has_offset], format="ISO8601", errors="coerce", utc=True)
        out[has_offset] = aware.dt.tz_convert(ZoneInfo(tz)).dt.tz_localize(None).astype("datetime64[us]")
    return out


def validate_rows(frame: pd.DataFrame, meta: TenantMeta, *, where: str = "line",
                  window: TsWindow | None = None) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    """Typed rows, messages for bad rows ('line N: reason'), and the mask of good rows.

    The one set of row rules for CSV imports and the ingestion API; `where` names the position
    in `frame["__line"]` ('line' of a file, 'row' of an API batch). With a `window`, rows
    outside it are bad, the message naming the accepted range.
    """
    lines = frame["__line"].to_numpy()
    ts = _parse_ts(frame["ts"], meta.timezone)
    codes = meta.product_ids_by_code()
    product_id = frame["product_code"].str.strip().map(codes)
    weight_raw = frame["weight_g"].str.strip()
    weight = pd.to_numeric(weight_raw, errors="coerce")
    status = frame["status"].str.strip().str.lower().map(t.STATUS_CODES)
    problems = {
        "ts is not an ISO 8601 date-time": ts.isna().to_numpy(),
        f"ts year outside {MIN_YEAR}-{MAX_YEAR}":
            (ts.notna() & ~ts.dt.year.between(MIN_YEAR, MAX_YEAR)).to_numpy(),
        **_outside(ts, window),
        "unknown product_code": product_id.isna().to_numpy(),
        "weight_g is not a number": ((weight_raw != "") & weight.isna()).to_numpy(),
        "weight_g is negative or too large": ((weight < 0) | (weight > 1e7)).fillna(False).to_numpy(),
        "status must be ok or reject": status.isna().to_numpy(),
    }
    bad = np.zeros(len(frame), dtype=bool)
    for mask in problems.values():
        bad |= mask
    messages: list[str] = []
    for i in np.flatnonzero(bad)[:MAX_REPORTED]:
        reasons = [name for name, mask in problems.items() if mask[i]]
        messages.append(f"{where} {lines[i]}: {'; '.join(reasons)}")
    if bad.sum() > MAX_REPORTED:
        messages.append(f"... {int(bad.sum()) - MAX_REPORTED} more bad rows")
    good = ~bad
    typed = pd.DataFrame({
        "ts": ts[good].to_numpy(),
        "product_id": product_id[good].astype("int64").to_numpy(),
        "weight_g": weight[good].astype("float64").to_numpy(),
        "status": status[good].astype("int64").to_numpy(),
    })
    # seq numbers rows sharing a timestamp, in file order: stable across re-imports.
    typed["seq"] = typed.groupby("ts", sort=False).cumcount().astype("int64")
    return typed, messages, good


def _outside(ts: pd.Series, window: TsWindow | None) -> dict[str, np.ndarray]:
    """The plausibility window's reasons (a year no filter can select has its own reason)."""
    if window is None:
        return {}
    known = ts.notna() & ts.dt.year.between(MIN_YEAR, MAX_YEAR)
    accepted = f"(accepted range {window.text()})"
    return {f"{TOO_OLD} {accepted}": (known & (ts < window.lo)).to_numpy(),
            f"{TOO_NEW} {accepted}": (known & (ts > window.hi)).to_numpy()}


def _months(ts: pd.Series) -> list[date]:
    """The months that hold rows (never every month between the first and the last)."""
    return sorted({month_start(d) for d in ts.dt.date.unique()})


def _refusal(n_bad: int, messages: list[str]) -> ImportRejected:
    hint = ""
    if any(TOO_OLD in m for m in messages):
        hint = ("; rows before the plant's history start need --allow-history-from YYYY-MM-DD "
                "(an admin's explicit import of older history)")
    return ImportRejected(f"{n_bad} bad row(s); nothing was imported (use --skip-bad to import "
                          f"the good rows){hint}", details=messages)


def import_detections(db: DatabaseManager, meta: TenantMeta, line_code: str, path: Path | str,
                      *, clock: Clock, skip_bad: bool = False, progress: bool = False,
                      on_rows: Callable[[int, int], None] | None = None,
                      plausibility: Plausibility = Plausibility(),
                      history_from: date | None = None) -> ImportResult:
    """Validate and load one CSV file into a line's detections table, all or nothing.

    `on_rows(done, total)` is called once the file is valid and after each chunk is written
    (browser uploads show it as a progress bar; the rows commit together at the end).
    `history_from` is an admin's explicit import of older history: rows from that date on are
    accepted, and the plant's history start moves back to the earliest row imported.
    """
    line = meta.line_by_code(line_code)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ImportRejected(f"cannot read {path}: {exc.strerror or exc.__class__.__name__}") from None
    started = time.perf_counter()
    frame, wrong = read_csv(raw)
    window = plausibility.window(meta, clock, history_from=history_from)
    typed, messages, _good = validate_rows(frame, meta, window=window)
    messages = wrong + messages
    n_bad = len(wrong) + len(frame) - len(typed)
    if messages and not skip_bad:
        raise _refusal(n_bad, messages)
    result = ImportResult(rows_read=len(frame) + len(wrong), rows_inserted=0, rows_duplicate=0,
                          bad_rows=messages)
    if typed.empty:
        return result
    with db.tenant(meta.slug) as conn:
        ensure_line_table(conn, line.id, _months(typed["ts"]), today=plant_today(clock, meta.timezone))
    bar = Progress(f"importing {Path(path).name}", len(typed)) if progress else None
    if on_rows:
        on_rows(0, len(typed))
    with db.tenant(meta.slug) as conn:
        first_ts, last_ts = typed["ts"].min().to_pydatetime(), typed["ts"].max().to_pydatetime()
        mark_detections_written(conn, line.id, first_ts, last_ts)
        for i in range(0, len(typed), CHUNK):
            chunk = typed.iloc[i:i + CHUNK]
            result.rows_inserted += insert_detections(conn, line.id, chunk)
            if bar:
                bar.advance(len(chunk))
            if on_rows:
                on_rows(min(i + CHUNK, len(typed)), len(typed))
        conn.execute(insert(t.import_batches).values(
            line_id=line.id, file_sha256=hashlib.sha256(raw).hexdigest(), filename=Path(path).name[:255],
            rows_inserted=result.rows_inserted, rows_skipped=n_bad,
            imported_at=clock.now_utc().replace(tzinfo=None),
            first_ts=first_ts, last_ts=last_ts,
        ))
        if history_from is not None:
            result.history_start = extended_history_start(meta, clock, plausibility, first_ts)
            if result.history_start is not None:
                set_plant_setting(conn, t.HISTORY_START, result.history_start.isoformat())
                bump_metadata_version(conn)
    if bar:
        bar.finish()
    result.rows_duplicate = len(typed) - result.rows_inserted
    result.bad_rows = messages
    result.seconds = time.perf_counter() - started
    return result
