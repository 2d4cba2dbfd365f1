from tests.filters.hour_range_kind import hour_range  # noqa: F401 - the kind registers itself
