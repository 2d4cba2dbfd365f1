"""Test cases read from the registries, so a new widget or filter is tested without editing a list."""

from __future__ import annotations

from typing import Any

import filters  # noqa: F401  (registration of the built-in filter classes)
import widgets  # noqa: F401  (registration of the built-in widget classes)
from filters.base import BaseFilter, filter_registry
from widgets.base import BaseWidget, widget_registry


def widget_samples(
    *source_types: str, raw_rows: bool | None = None
) -> list[tuple[type[BaseWidget], dict[str, Any]]]:
    """(class, config) for every registered widget and each of its `sample_configs`, optionally
    only those of the given source types and with `raw_rows` as given."""
    return [(cls, dict(config)) for cls in widget_registry for config in cls.sample_configs
            if (not source_types or cls.source_type in source_types)
            and (raw_rows is None or cls.raw_rows == raw_rows)]


def filter_samples() -> list[tuple[type[BaseFilter], dict[str, Any]]]:
    """(class, config) for every registered filter class and each of its `sample_configs`."""
    return [(cls, dict(config)) for cls in filter_registry for config in cls.sample_configs]


def sample_id(case: object) -> str:
    """A readable pytest id: the class name, then the config when it is not empty."""
    if isinstance(case, type):
        return case.__name__
    return ",".join(f"{k}={v}" for k, v in case.items()) if isinstance(case, dict) and case else "default"
