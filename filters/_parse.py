"""Liberal readers for raw form/JSON values: many shapes accepted, values checked strictly.

Each reader raises ValueError with a Spanish message (without echoing the raw input, which
may be hostile); the filter turns it into a ValidationFailed naming its field.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

ALL_WORDS = frozenset({"todos", "todas", "todo", "all", "*", ""})
_ID = re.compile(r"\d{1,12}")
_NUMBER = re.compile(r"[+-]?\d{1,12}(?:[.,]\d{1,9})?")
_COMBINING = re.compile("[\u0300-\u036f]")
_NON_ASCII = re.compile("[^\x00-\x7f×]")
_TRUE = frozenset({"true", "on", "1", "si", "sí", "yes", "y", "s"})
_FALSE = frozenset({"false", "off", "0", "no", "n", ""})


def is_all(raw: Any) -> bool:
    """True for the spellings of "all" (and an empty selection)."""
    if isinstance(raw, str):
        return raw.strip().lower() in ALL_WORDS
    return isinstance(raw, list | tuple) and len(raw) == 0


def parse_id(item: Any) -> int:
    """One positive id from an int or a numeric string."""
    if isinstance(item, bool):
        raise ValueError("se esperaba un identificador numérico, no un valor lógico")
    if isinstance(item, int):
        if item <= 0:
            raise ValueError("los identificadores son enteros positivos")
        return item
    if isinstance(item, str) and _ID.fullmatch(item.strip()):
        value = int(item.strip())
        if value > 0:
            return value
    raise ValueError("contiene un valor que no es un identificador numérico válido")


def parse_ids(raw: Any) -> frozenset[int] | None:
    """A multi-select: ids as a list, one id, or "1,2,3"; None means all ("todos" or empty)."""
    if is_all(raw):
        return None
    if isinstance(raw, str):
        items: list[Any] = [part for part in raw.split(",")]
    elif isinstance(raw, list | tuple):
        items = list(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        items = [raw]
    else:
        raise ValueError("se esperaba una lista de identificadores o «todos»")
    if any(isinstance(item, str) and item.strip().lower() in ALL_WORDS - {""} for item in items):
        return None
    return frozenset(parse_id(item) for item in items)


def parse_bool(raw: Any) -> bool:
    """A toggle: true/false, "on"/"off", "sí"/"no", 1/0; a list (checkbox + hidden) uses its last item."""
    if isinstance(raw, list | tuple) and raw:
        raw = raw[-1]
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError("se esperaba sí o no (true/false)")


def parse_number(raw: Any) -> float | None:
    """A finite number from an int, a float or a string ("12,5" too); empty means no bound."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise ValueError("se esperaba un número")
    if isinstance(raw, int | float):
        try:
            value = float(raw)
        except OverflowError:
            raise ValueError("número fuera de rango") from None
    elif isinstance(raw, str) and _NUMBER.fullmatch(raw.strip()):
        value = float(raw.strip().replace(",", "."))
    else:
        raise ValueError("se esperaba un número")
    if not math.isfinite(value) or abs(value) > 1e12:
        raise ValueError("número fuera de rango")
    return value


def search_text(*parts: str) -> str:
    """Lower-case ASCII text for client-side search ("Línea" matches "linea"; symbols → spaces)."""
    decomposed = unicodedata.normalize("NFKD", " ".join(parts).lower())
    ascii_only = _NON_ASCII.sub(" ", _COMBINING.sub("", decomposed)).replace("×", "x")
    return " ".join(ascii_only.split())
