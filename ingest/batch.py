"""One ingestion batch from a line gateway: parse (JSON, NDJSON or CSV), validate, write.

Rows are checked with the CSV import's rules (`csv_import.validate_rows`), the tenant's
plausibility window included (core/plausibility.py: a gateway cannot lift its history start);
one bad row rejects the whole batch, naming the row and, for a timestamp, the accepted range.
The batch is written in one transaction on the tenant DB, and rows are keyed by (ts, seq) per
line, where seq numbers the rows of one line that share a timestamp inside the batch, so a
resent batch adds nothing. Before writing, each line's rows
mark the derived data they change (core/derived_state.py): late data redoes the rollup buckets
and the gap analysis of the dates it lands in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.db import DatabaseManager
from core.derived_state import mark_detections_written
from core.errors import Forbidden, ImportRejected
from core.metadata_cache import TenantMeta
from core.plausibility import TsWindow
from ingest.bulk_load import insert_detections
from ingest.csv_import import REQUIRED, read_csv, validate_rows

FIELDS = ("line", *REQUIRED)
JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
CSV_TYPES = ("text/csv", "application/csv")
MAX_REPORTED = 50


@dataclass
class BatchResult:
    rows_received: int
    rows_inserted: int
    by_line: dict[str, int] = field(default_factory=dict)
    batch_id: str | None = None

    @property
    def rows_duplicate(self) -> int:
        return self.rows_received - self.rows_inserted


def count_rows(raw: bytes, media_type: str) -> int | None:
    """Rows of an NDJSON/CSV body by counting newlines (no parsing); None for JSON."""
    if media_type in NDJSON_TYPES:
        return raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    if media_type in CSV_TYPES:
        return max(0, raw.count(b"\n") - (1 if raw.endswith(b"\n") else 0))
    return None


def _cell(value: object) -> str:
    if value is None:
        return ""
    return str(value)


def _from_records(records: list[object], default_line: str | None) -> pd.DataFrame:
    bad = [i + 1 for i, r in enumerate(records) if not isinstance(r, dict)]
    if bad:
        details = [f"row {i}: not an object" for i in bad[:MAX_REPORTED]]
        raise ImportRejected("each detection must be an object", details=details)
    columns = {name: [_cell(r.get(name, default_line if name == "line" else None)) for r in records]
               for name in FIELDS}
    frame = pd.DataFrame(columns, dtype=str)
    frame["__line"] = range(1, len(records) + 1)
    return frame


def _text(body: dict, name: str, *, numbers: bool = False) -> str | None:
    """A batch field as the API documents it: text (`numbers`: or a number) or null."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, str) or (numbers and isinstance(value, int | float) and not isinstance(value, bool)):
        return str(value)
    raise ImportRejected(f"{name} must be text{' or a number' if numbers else ''}")


def _loads(raw: bytes, what: str) -> object:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportRejected(f"{what} is not valid JSON: {exc}") from None


def parse_batch(raw: bytes, media_type: str, *, default_line: str | None = None
                ) -> tuple[pd.DataFrame, str | None, str | None]:
    """(rows as strings with a 1-based `__line` row number, batch_id, tenant named in the body)."""
    if media_type in CSV_TYPES:
        frame, wrong = read_csv(raw, REQUIRED if default_line else FIELDS)
        if wrong:
            raise ImportRejected(f"{len(wrong)} malformed CSV row(s); nothing was written", details=wrong)
        if "line" not in frame.columns:
            frame["line"] = default_line
        frame["__line"] = range(1, len(frame) + 1)
        return frame, None, None
    if media_type in NDJSON_TYPES:
        lines = [ln for ln in raw.split(b"\n") if ln.strip()]
        records = [_loads(ln, f"row {i}") for i, ln in enumerate(lines, 1)]
        return _from_records(records, default_line), None, None
    if media_type not in JSON_TYPES:
        raise ImportRejected("Content-Type must be application/json, application/x-ndjson or text/csv")
    body = _loads(raw, "the body")
    if isinstance(body, list):
        return _from_records(body, default_line), None, None
    if not isinstance(body, dict) or not isinstance(body.get("detections"), list):
        raise ImportRejected('the body must be {"detections": [...]} or a list of detections')
    batch_id = _text(body, "batch_id", numbers=True)
    tenant = _text(body, "tenant")
    line = _text(body, "line")
    return (_from_records(body["detections"], line if line is not None else default_line),
            None if batch_id is None else batch_id[:64], tenant)


def _check_lines(frame: pd.DataFrame, meta: TenantMeta, allowed: set[str]) -> tuple[list[str], np.ndarray]:
    """Row messages and mask of unknown lines; Forbidden when a known line is outside the key's set."""
    codes = frame["line"].str.strip()
    unknown = ~codes.isin(list(meta.lines_by_code))
    outside = sorted(set(codes[~unknown]) - allowed)
    if outside:
        raise Forbidden(f"la clave no puede escribir en la(s) línea(s) {', '.join(outside)}")
    pairs = zip(frame["__line"][unknown], codes[unknown], strict=True)
    return [f"row {n}: unknown line {c!r}" for n, c in pairs], unknown.to_numpy()


def _row_number(message: str) -> int:
    head = message.split(":", 1)[0]
    return int(head[4:]) if head.startswith("row ") and head[4:].isdigit() else 1 << 62


def write_batch(db: DatabaseManager, meta: TenantMeta, frame: pd.DataFrame, *, allowed: set[str],
                window: TsWindow | None, batch_id: str | None = None) -> BatchResult:
    """Validate every row, then write all lines' rows in one transaction (all or nothing).

    `window` is the tenant's plausibility window now; None (no check) is for trusted writers
    only: tests and benchmarks that load fixed datasets.
    """
    codes = frame["line"].str.strip()
    messages, unknown = _check_lines(frame, meta, allowed)
    typed, bad, good = validate_rows(frame, meta, where="row", window=window)
    messages += bad
    if messages:
        messages.sort(key=_row_number)
        raise ImportRejected(f"{int((unknown | ~good).sum())} bad row(s); nothing was written",
                             details=messages[:MAX_REPORTED])
    result = BatchResult(rows_received=len(frame), rows_inserted=0, batch_id=batch_id)
    if frame.empty:
        return result
    # validate_rows numbers rows per timestamp over the whole batch; here it is per line and timestamp.
    typed["line"] = codes.to_numpy()
    typed["seq"] = typed.groupby(["line", "ts"], sort=False).cumcount().astype("int64")
    with db.tenant(meta.slug) as conn:
        for code, rows in typed.groupby("line", sort=True):
            line_id = meta.lines_by_code[code].id
            ts = rows["ts"]
            mark_detections_written(conn, line_id, ts.min().to_pydatetime(), ts.max().to_pydatetime())
            inserted = insert_detections(conn, line_id, rows, allow_infile=False)
            result.by_line[code] = inserted
            result.rows_inserted += inserted
    return result
