"""Rows → CSV text in chunks, as plain CSV or the Spanish-Excel variant.

Plain: `,` separator, `.` decimals, UTF-8. Spanish Excel: `;` separator, decimal comma, and a
UTF-8 byte-order mark so Excel in a Spanish locale opens accents and numbers correctly when the
file is double-clicked. Undefined values are empty cells. Chunks are yielded every CHUNK_ROWS
rows so a large export streams instead of being built in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any, Literal

Format = Literal["csv", "excel"]
CHUNK_ROWS = 500
BOM = "\ufeff"


def _cell(value: Any, excel: bool) -> Any:  # noqa: ANN401 - any JSON scalar
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if excel and isinstance(value, float):
        return repr(value).replace(".", ",")
    return value


def csv_chunks(header: list[str], rows: Iterable[list[Any]], fmt: Format = "csv") -> Iterator[str]:
    """The CSV text of `header` + `rows`, a few hundred rows per chunk."""
    excel = fmt == "excel"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if excel else ",", lineterminator="\r\n" if excel else "\n")
    if excel:
        out.write(BOM)
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_cell(v, excel) for v in row])
        if count % CHUNK_ROWS == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def media_type(fmt: Format) -> str:
    """The Content-Type of an export in this format."""
    return "text/csv; charset=utf-8"
