"""How deeply a JSON text nests, found without parsing it.

Python's `json` recurses once per level of `[` / `{`: a body of a few thousand brackets raises
RecursionError (a 500) in the parser itself or in whatever walks the result. Every JSON body
and JSON form field is therefore scanned first and refused past MAX_JSON_DEPTH levels.

The scan is a handful of C-level passes over the bytes, never a Python loop per character:
escape pairs are dropped (so every `"` left opens or closes a string), everything but quotes
and brackets is deleted, and adjacent quotes `""` are dropped (that keeps every bracket inside
or outside a string as it was). Usually no quote is left; else the parts between quotes, the
strings' brackets, are cut out. The brackets left, objects and arrays alike as `[` `]`, lose
their empty pairs `[]`, one level of nesting per round. After `limit` rounds, what is left is
empty (depth within the limit), or holds a pair (nested deeper than the limit), or is only
unbalanced brackets `]]...[[`: then the text is not JSON, and it is too deep when more than
`limit` brackets are never closed (a parser reads those before it can fail; with fewer it
fails within twice the limit).
"""

from __future__ import annotations

from identity.request_limits import MAX_JSON_DEPTH

_OTHER = bytes(b for b in range(256) if b not in b'"[]{}')
_ONE_KIND = bytes.maketrans(b"{}", b"[]")

TOO_DEEP = f"El JSON está anidado a más de {MAX_JSON_DEPTH} niveles."


def _skeleton(raw: bytes) -> bytes:
    """The brackets of `raw` outside strings, in order, objects and arrays alike as `[` `]`."""
    marks = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _OTHER).replace(b'""', b"")
    if b'"' in marks:
        marks = b"".join(marks.split(b'"')[::2])
    return marks.translate(_ONE_KIND)


def json_too_deep(text: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `text` (JSON or NDJSON) nests objects/arrays more than `limit` levels deep."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    rest = _skeleton(raw)
    for _ in range(limit):
        shorter = rest.replace(b"[]", b"")
        if len(shorter) == len(rest):
            break
        rest = shorter
    if not rest:
        return False
    first_open = rest.find(b"[")
    if first_open >= 0 and rest.find(b"]", first_open) >= 0:
        return True  # a pair survived `limit` rounds: it holds more than `limit` levels
    return not rest.startswith(b"]") and len(rest) > limit
