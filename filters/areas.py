"""Multi-select of plant areas; an area stands for the lines it contains."""

from __future__ import annotations

from filters._parse import search_text
from filters.base import filter_registry
from filters.multiselect import MultiSelectFilter
from query.spec import SqlFragment


@filter_registry.register
class AreaFilter(MultiSelectFilter):
    """Áreas: restricts the query to the lines of the selected areas."""

    scopes_lines = True
    dimension = "area"

    def _build_options(self) -> list[dict]:
        areas = sorted(self.meta.areas.values(), key=lambda area: (area.name, area.id))
        return [
            {
                "value": area.id,
                "label": area.name,
                "code": area.code,
                "line_ids": sorted(self.meta.lines_by_area.get(area.id, ())),
                "search": search_text(area.code, area.name),
            }
            for area in areas
        ]

    def to_sql(self, value: frozenset[int] | None) -> SqlFragment:
        """Selected areas → their lines (an area without lines selects nothing)."""
        if value is None:
            return SqlFragment()
        lines: set[int] = set()
        for area_id in value:
            lines |= self.meta.lines_by_area.get(area_id, frozenset())
        return SqlFragment(line_ids=frozenset(lines))
