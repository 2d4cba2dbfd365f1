"""Multi-select of products, whose offered options depend on the selected lines.

Every option carries `line_ids`, so the front end narrows the list as lines change without a
round trip. With `depends_on` naming a line or area filter, `validate` also rejects products
that none of the selected lines makes (FilterSet validates those filters first). With several
`depends_on` filters (lines and areas) the selected lines are the intersection of their scopes.
"""

from __future__ import annotations

from typing import Any

from pydantic import field_validator
from sqlalchemy import Table

from filters._parse import search_text
from filters.base import FilterConfig, ValidationContext, filter_registry
from filters.multiselect import MAX_LISTED, MultiSelectFilter
from query.spec import SqlFragment


class ProductFilterConfig(FilterConfig):
    depends_on: tuple[str, ...] = ()

    @field_validator("depends_on", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value


@filter_registry.register
class ProductFilter(MultiSelectFilter):
    """Productos: a bound, expanding `product_id IN (...)`; "todos" adds nothing."""

    dimension = "product"
    config_model = ProductFilterConfig
    sample_configs = ({}, {"depends_on": ["lineas"]})

    def _build_options(self) -> list[dict]:
        products = sorted(self.meta.products.values(), key=lambda p: (p.code, p.id))
        return [
            {
                "value": p.id,
                "label": p.name,
                "code": p.code,
                "line_ids": sorted(p.line_ids),
                "nominal_weight_g": p.nominal_weight_g,
                "search": search_text(p.code, p.name),
            }
            for p in products
        ]

    def depends_on(self) -> tuple[str, ...]:
        return self.config.depends_on

    def validate(self, raw: Any, context: ValidationContext | None = None) -> frozenset[int] | None:
        ids = super().validate(raw, context)
        if ids is None or context is None:
            return ids
        scopes = [context.line_scopes.get(p) for p in self.config.depends_on]
        scopes = [s for s in scopes if s is not None]
        if not scopes:
            return ids
        lines = frozenset.intersection(*scopes)
        foreign = sorted(i for i in ids if not (self.meta.products[i].line_ids & lines))
        if foreign:
            shown = ", ".join(self.meta.products[i].code for i in foreign[:MAX_LISTED])
            raise self.fail(f"no se fabrican en las líneas seleccionadas: {shown}")
        return ids

    def to_sql(self, value: frozenset[int] | None) -> SqlFragment:
        if value is None:
            return SqlFragment()
        ids = sorted(value)

        def predicate(table: Table) -> Any:
            return table.c.product_id.in_(ids)

        return SqlFragment(predicate=predicate)

    def describe_extra(self) -> dict[str, Any]:
        return {**super().describe_extra(), "depends_on": list(self.config.depends_on)}
