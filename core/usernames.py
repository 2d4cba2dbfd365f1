"""The one spelling of a username: NFC, trimmed, case-folded (shared by login and migrations).

`ALICE`, `" alice "` and `alice` are the same account; `alicé` is a different name (and not
a valid one). Stored names are already normalised, so the database compares them bytewise.
"""

from __future__ import annotations

import unicodedata


def normalize_username(name: str) -> str:
    """NFC after case folding (which may decompose), with surrounding whitespace removed."""
    folded = unicodedata.normalize("NFC", str(name or "")).strip().casefold()
    return unicodedata.normalize("NFC", folded)
