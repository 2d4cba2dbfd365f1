"""JSON Schema facts a request field's type cannot carry, added to the OpenAPI document.

Some inputs are checked by the server with a Spanish refusal of its own (a class name must be
registered, a parameter must match a pattern) rather than by pydantic; the schema still says what
is valid so API clients and the OpenAPI fuzz send what the server accepts. The names are read
when the document is generated, after every plugin has registered its classes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SchemaEdit = Callable[[dict[str, Any]], None]


def one_of_names(names: Callable[[], list[str]], *, nullable: bool = False) -> SchemaEdit:
    """A `json_schema_extra` that restricts a string field to `names()` (and null if nullable)."""

    def add_enum(schema: dict[str, Any]) -> None:
        schema["enum"] = [*sorted(names()), *([None] if nullable else [])]

    return add_enum
