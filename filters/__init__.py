"""Dashboard filters: the registry, the contract, the classes, and the set built from `Filters` rows.

Importing this package registers every built-in filter class; third-party classes register
through the "camet.filters" entry point group (loaded on the first registry lookup).
"""

from filters import areas, date_range, lines, numeric_range, products, shifts, toggle
from filters.base import BaseFilter, FilterConfig, ValidationContext, filter_registry
from filters.date_range import DateRange, DateRangeFilter
from filters.filter_set import FilterRowError, FilterSet, build_filter_set, load_filter_set
from filters.numeric_range import NumericRange

BUILTIN_MODULES = (areas, date_range, lines, numeric_range, products, shifts, toggle)

__all__ = [
    "BUILTIN_MODULES", "BaseFilter", "DateRange", "DateRangeFilter", "FilterConfig", "FilterRowError",
    "FilterSet", "NumericRange", "ValidationContext", "build_filter_set", "filter_registry",
    "load_filter_set",
]
