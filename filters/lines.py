"""Multi-select of production lines; restricts which line tables the query reads."""

from __future__ import annotations

from filters._parse import search_text
from filters.base import FilterConfig, filter_registry
from filters.multiselect import MultiSelectFilter
from query.spec import SqlFragment


class LineFilterConfig(FilterConfig):
    include_inactive: bool = False


@filter_registry.register
class LineFilter(MultiSelectFilter):
    """Líneas: options are the tenant's (active) lines, ordered by code."""

    scopes_lines = True
    dimension = "line"

    config_model = LineFilterConfig
    sample_configs = ({}, {"include_inactive": True})

    def _build_options(self) -> list[dict]:
        lines = sorted(self.meta.lines.values(), key=lambda line: (line.code, line.id))
        return [
            {
                "value": line.id,
                "label": line.name,
                "code": line.code,
                "area_id": line.area_id,
                "search": search_text(line.code, line.name),
            }
            for line in lines
            if line.active or self.config.include_inactive
        ]

    def to_sql(self, value: frozenset[int] | None) -> SqlFragment:
        return SqlFragment() if value is None else SqlFragment(line_ids=frozenset(value))
