"""Property tests: arbitrary JSON at every filter's `validate` is accepted as a typed value or
rejected with ValidationFailed naming the field; nothing else escapes, and accepted values
always produce compilable, bound SQL fragments and JSON that validates back to the same value."""

from __future__ import annotations

import json
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, sqlite

from core.errors import ValidationFailed
from core.schema_tenant import detections_table
from filters import DateRange, FilterSet
from tests.filters.test_filters_unit import at_plant_time, date_filter, default_set

FS: FilterSet = default_set()
NOW = datetime(2026, 3, 15, 3, 30)
FS.get("fecha").clock = at_plant_time(NOW)
TABLE = detections_table(1)

scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)
# Shapes close to valid input, so the deeper branches get exercised too.
day_text = st.dates().map(lambda d: d.isoformat()) | st.datetimes().map(lambda d: d.isoformat())
near_valid = (
    st.lists(st.integers(min_value=-2, max_value=20) | st.integers(0, 20).map(str), max_size=6)
    | st.sampled_from(["todos", "", "hoy", "ayer", "turno_actual", "ultimos_7_dias", "este_mes",
                       "mes_anterior", "personalizado", "true", "false", "on", "1,2", "12,5"])
    | st.fixed_dictionaries(
        {}, optional={"preset": st.sampled_from(["personalizado", "hoy", "x"]), "start": day_text | scalars,
                      "end": day_text | scalars},
    )
    | st.fixed_dictionaries(
        {}, optional={"min": scalars | st.floats(0, 500).map(str), "max": scalars | st.floats(0, 500)},
    )
)
raw_values = json_values | near_valid


def check_accepted(f, value) -> None:
    fragment = f.to_sql(value)
    if fragment.predicate is not None:
        expr = fragment.predicate(TABLE)
        for dialect in (sqlite.dialect(), mysql.dialect()):
            expr.compile(dialect=dialect)
    encoded = json.loads(json.dumps(f.to_json(value)))
    if not isinstance(value, DateRange) or value.preset == "personalizado":
        assert f.validate(encoded) == value


@settings(max_examples=400, deadline=None)
@given(param=st.sampled_from([f.param for f in FS.filters]), raw=raw_values)
def test_each_filter_accepts_or_rejects_cleanly(param, raw):
    f = FS.get(param)
    try:
        value = f.validate(raw)
    except ValidationFailed as exc:
        assert exc.details and exc.details[0]["field"] == param
        assert exc.details[0]["message"].startswith(f.label + ": ")
        return
    check_accepted(f, value)


@settings(max_examples=200, deadline=None)
@given(raw=st.dictionaries(st.sampled_from([f.param for f in FS.filters] + ["otro"]), raw_values, max_size=8)
       | json_values)
def test_the_whole_set_accepts_or_rejects_cleanly(raw):
    try:
        values = FS.validate(raw)
    except ValidationFailed as exc:
        params = {f.param for f in FS.filters} | {"filters"}
        assert exc.details and all(d["field"] in params for d in exc.details)
        return
    assert set(values) == {f.param for f in FS.filters}
    json.dumps(FS.applied(values))
    for fragment in FS.fragments(values):
        if fragment.predicate is not None:
            fragment.predicate(TABLE).compile(dialect=mysql.dialect())


@settings(max_examples=200, deadline=None)
@given(start=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2999, 1, 1)),
       end=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2999, 1, 1)))
def test_custom_dates_respect_order_and_span(start, end):
    f = date_filter(NOW, max_days=90)
    try:
        value = f.validate({"start": start.isoformat(), "end": end.isoformat()})
    except ValidationFailed:
        assert end <= start or (end - start).days >= 90
        return
    assert value.start == start and value.end == end and value.start < value.end
