"""Rows → CSV text in chunks, as plain CSV or the Spanish-Excel variant.

Plain: `,` separator, `.` decimals, UTF-8. Spanish Excel: `;` separator, decimal comma, and a
UTF-8 byte-order mark so Excel in a Spanish locale opens accents and numbers correctly when the
file is double-clicked. Undefined values are empty cells. Rows end in CRLF (RFC 4180), so a cell
holding a line break of either kind is quoted and stays one cell. Chunks are yielded every
CHUNK_ROWS rows so a large export streams instead of being built in memory.

Every CSV the product writes goes through here, because cells carry names an admin can edit
(lines, products, stop reasons): a text cell a spreadsheet would read as a formula (it starts
with = + - @, tab or CR) is written with a leading single quote, as OWASP advises against CSV
injection. Numbers are never text here, so a negative number stays a number.
"""

from __future__ import annotations

import csv
import io
import numbers
from collections.abc import Iterable, Iterator
from typing import Any, Literal

Format = Literal["csv", "excel"]
CHUNK_ROWS = 500
BOM = "\ufeff"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """`text` with a leading single quote when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Any, excel: bool) -> Any:  # noqa: ANN401 - any JSON scalar
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Number):
        return repr(value).replace(".", ",") if excel and isinstance(value, float) else value
    return neutralise_formula(str(value))


def csv_chunks(header: list[str], rows: Iterable[list[Any]], fmt: Format = "csv") -> Iterator[str]:
    """The CSV text of `header` + `rows`, a few hundred rows per chunk."""
    excel = fmt == "excel"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if excel else ",", lineterminator="\r\n")
    if excel:
        out.write(BOM)
    writer.writerow([_cell(name, excel) for name in header])
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
