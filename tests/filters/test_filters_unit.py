"""Filters without a database: parsing, presets, dependencies, fragments, registry and rows."""

from __future__ import annotations

import json
import sys
import textwrap
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import mysql, sqlite

from core.clock import ManualClock
from core.errors import ValidationFailed
from core.metadata_cache import Area, Line, Product, Shift, TenantMeta
from core.schema_tenant import detections_table
from filters import (
    DateRange,
    DateRangeFilter,
    FilterSet,
    NumericRange,
    build_filter_set,
    filter_registry,
)
from filters.defaults import DEFAULT_FILTER_ROWS
from filters.shifts import ShiftSelection, merged_windows
from query.builder import build_query
from query.spec import PlantScope, SqlFragment
from tests.helpers import frozen_test_clock

TZ = "America/Argentina/Buenos_Aires"


def synthetic_meta() -> TenantMeta:
    """2 areas, 3 lines (L3 inactive), 4 products, 3 shifts with a night shift."""
    areas = {1: Area(1, "snacks", "Snacks"), 2: Area(2, "galletas", "Galletitas")}
    lines = {
        1: Line(1, "L1", "Línea 1", 1, 60.0, 15, 120),
        2: Line(2, "L2", "Línea 2", 1, 40.0, 15, 120),
        3: Line(3, "L3", "Línea 3", 2, 30.0, 15, 120, active=False),
    }
    products = {
        10: Product(10, "PF-045", "Papas 45 g", 45.0, frozenset({1})),
        11: Product(11, "PF-090", "Papas 90 g", 90.0, frozenset({1, 2})),
        12: Product(12, "EX-060", "Chizitos 60 g", 60.0, frozenset({2})),
        13: Product(13, "GD-150", "Galletitas 150 g", 150.0, frozenset({3})),
    }
    shifts = {
        1: Shift(1, "manana", "Mañana", time(6), time(14)),
        2: Shift(2, "tarde", "Tarde", time(14), time(22)),
        3: Shift(3, "noche", "Noche", time(22), time(6)),
    }
    return TenantMeta("acme", TZ, 1, areas, lines, products, shifts)


def default_set(meta: TenantMeta | None = None) -> FilterSet:
    rows = [dict(r, id=i + 1) for i, r in enumerate(DEFAULT_FILTER_ROWS)]
    fs = build_filter_set(rows, meta or synthetic_meta())
    assert fs.errors == []
    return fs


def at_plant_time(now: datetime, tz: str = TZ) -> ManualClock:
    """A frozen clock showing `now` on the plant's wall (naive local time)."""
    return ManualClock(now.replace(tzinfo=ZoneInfo(tz)))


def date_filter(now: datetime, **config) -> DateRangeFilter:
    return DateRangeFilter(param="fecha", label="Fecha", config=config, meta=synthetic_meta(),
                           clock=at_plant_time(now))


def compile_sql(fs: FilterSet, values: dict, dialect=sqlite.dialect()) -> list[str]:
    table = detections_table(1)
    return [str(f.predicate(table).compile(dialect=dialect)) for f in fs.fragments(values) if f.predicate]


# --- metadata snapshot ---------------------------------------------------------------------------


def test_snapshot_indexes_match_the_dicts():
    meta = synthetic_meta()
    assert meta.products_by_line == {1: frozenset({10, 11}), 2: frozenset({11, 12}), 3: frozenset({13})}
    assert meta.lines_by_area == {1: frozenset({1, 2}), 2: frozenset({3})}
    assert meta.line_by_code("L2").id == 2
    assert meta.products_by_code["EX-060"].id == 12
    assert meta.shifts[3].crosses_midnight and meta.shifts[3].contains_minute(5 * 60 + 59)
    assert not meta.shifts[3].contains_minute(6 * 60)


# --- multi-selects ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["todos", "Todos", "", [], ["todos"], "all", None])
def test_all_spellings_give_no_fragment(raw):
    fs = default_set()
    values = fs.validate({"lineas": raw, "productos": raw, "turnos": raw, "areas": raw})
    assert values["lineas"] is None and values["productos"] is None and values["turnos"] is None
    # Only the date range (always) remains: never an IN list of every id.
    fragments = fs.fragments(values)
    assert len(fragments) == 1 and fragments[0].time_range is not None


@pytest.mark.parametrize("raw", [[1, 2], ["1", "2"], "1,2", " 1 , 2 ", [2, "1", 1]])
def test_multiselect_shapes(raw):
    assert default_set().validate({"lineas": raw})["lineas"] == frozenset({1, 2})


@pytest.mark.parametrize("raw", [[1, 99], [3], "1;2", [True], [1.5], {"a": 1}, [0], ["-1"], "1 OR 1=1"])
def test_multiselect_rejects_bad_ids_naming_the_field(raw):
    with pytest.raises(ValidationFailed) as info:
        default_set().validate({"lineas": raw})
    assert info.value.details[0]["field"] == "lineas"
    assert info.value.details[0]["message"].startswith("Líneas:")


def test_inactive_lines_are_not_offered():
    fs = default_set()
    assert [o["code"] for o in fs.get("lineas").options()] == ["L1", "L2"]


def test_area_selects_its_lines():
    fs = default_set()
    values = fs.validate({"areas": [2]})
    assert fs.get("areas").to_sql(values["areas"]).line_ids == frozenset({3})


def test_products_depend_on_selected_lines():
    fs = default_set()
    described = {d["param"]: d for d in fs.describe()}["productos"]
    assert described["depends_on"] == ["lineas", "areas"]
    assert {o["value"]: o["line_ids"] for o in described["options"]}[11] == [1, 2]
    assert fs.validate({"lineas": [2], "productos": [11, 12]})["productos"] == frozenset({11, 12})
    with pytest.raises(ValidationFailed) as info:
        fs.validate({"lineas": [2], "productos": [10, 12]})
    assert info.value.details == [
        {"field": "productos", "message": "Productos: no se fabrican en las líneas seleccionadas: PF-045"}
    ]
    # Lines ∩ lines of the areas: area 1 holds lines 1 and 2, so product 10 (line 1) is fine.
    assert fs.validate({"areas": [1], "productos": [10]})["productos"] == frozenset({10})


def test_product_predicate_is_an_expanding_bound_in():
    fs = default_set()
    values = fs.validate({"productos": [12, 10]})
    [sql] = compile_sql(fs, {"productos": values["productos"]})
    assert "IN (__[POSTCOMPILE_product_id_1])" in sql
    table = detections_table(1)
    frag = fs.get("productos").to_sql(values["productos"])
    compiled = frag.predicate(table).compile(
        dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}
    )
    assert compiled.params == {"product_id_1_1": 10, "product_id_1_2": 12}


# --- shifts -------------------------------------------------------------------------------------


def test_night_shift_is_one_ts_range_per_instance():
    """A shift belongs to the production day it starts on: "2 March + Noche" is
    22:00 2 Mar → 06:00 3 Mar, as one ts range."""
    fs = default_set()
    values = fs.validate({"fecha": {"start": "2026-03-02", "end": "2026-03-03"}, "turnos": [3]})
    assert fs.get("turnos").instances(values["turnos"]) == [
        (datetime(2026, 3, 2, 22), datetime(2026, 3, 3, 6)),
        (datetime(2026, 3, 3, 22), datetime(2026, 3, 4, 6)),
    ]
    frag = fs.get("turnos").to_sql(values["turnos"])
    assert frag.predicate is None and frag.time_range == (datetime(2026, 3, 2, 22), datetime(2026, 3, 4, 6))
    stmt = build_query([1], {"ts"}, fs.fragments(values)).statement()
    lite = stmt.compile(dialect=sqlite.dialect())
    assert str(lite).endswith(
        "WHERE (detections_1.ts >= ? AND detections_1.ts < ? OR detections_1.ts >= ? AND detections_1.ts < ?)"
    )
    assert list(lite.params.values()) == [datetime(2026, 3, 2, 22), datetime(2026, 3, 3, 6),
                                          datetime(2026, 3, 3, 22), datetime(2026, 3, 4, 6)]
    # MySQL (DATETIME(3)) gets the same half-open ranges as BETWEEN ... AND end - 1 ms.
    my = stmt.compile(dialect=mysql.dialect())
    assert str(my).endswith(
        "WHERE (detections_1.ts BETWEEN %s AND %s OR detections_1.ts BETWEEN %s AND %s)"
    )
    ms = timedelta(milliseconds=1)
    assert list(my.params.values()) == [datetime(2026, 3, 2, 22), datetime(2026, 3, 3, 6) - ms,
                                        datetime(2026, 3, 3, 22), datetime(2026, 3, 4, 6) - ms]


def test_without_a_date_window_the_shift_falls_back_to_time_of_day():
    fs = default_set()
    values = fs.validate({"turnos": [3]})  # the default date range applies ...
    assert values["turnos"].window == (values["fecha"].start, values["fecha"].end)
    alone = fs.get("turnos").validate([3])  # ... but a shift filter on its own has no days
    assert alone.window is None
    assert fs.get("turnos").minute_windows(alone.ids) == [(0, 360), (1320, 1440)]
    sql = str(fs.get("turnos").to_sql(alone).predicate(detections_table(1)).compile(dialect=mysql.dialect()))
    assert sql == (
        "(HOUR(detections_1.ts) * 60 + MINUTE(detections_1.ts)) < %s OR "
        "(HOUR(detections_1.ts) * 60 + MINUTE(detections_1.ts)) >= %s"
    )


def test_all_shifts_of_a_full_day_add_no_predicate():
    fs = default_set()
    values = fs.validate({"fecha": "ayer", "turnos": [1, 2, 3]})
    assert fs.get("turnos").to_sql(values["turnos"]) == SqlFragment()
    assert fs.get("turnos").to_sql(ShiftSelection(frozenset({1, 2, 3}))) == SqlFragment()
    assert fs.get("turnos").minute_windows(frozenset({1, 3})) == [(0, 840), (1320, 1440)]
    morning_and_night = fs.validate({"fecha": "ayer", "turnos": [1, 3]})["turnos"]
    assert fs.get("turnos").instances(morning_and_night) == [
        (morning_and_night.window[0], morning_and_night.window[0] + timedelta(hours=8)),
        (morning_and_night.window[1] - timedelta(hours=8), morning_and_night.window[1]),
    ]


def test_only_the_shift_filter_narrows_plant_data_and_the_set_combines_every_filter():
    fs = default_set()
    values = fs.validate({"fecha": "ayer", "turnos": [1, 3], "productos": [12], "peso": {"min": "1"}})
    assert fs.get("turnos").to_plant(values["turnos"]) == PlantScope(shift_ids=frozenset({1, 3}))
    others = [f for f in fs.filters if f.param != "turnos"]
    assert len(others) >= 5 and all(f.to_plant(values[f.param]) == PlantScope() for f in others)
    assert fs.plant_scope(values) == PlantScope(shift_ids=frozenset({1, 3}))
    assert fs.plant_scope(fs.validate({"fecha": "ayer"})) == PlantScope()


def test_huge_selections_fall_back_to_time_of_day():
    fs = default_set()
    wide = ShiftSelection(frozenset({1, 3}), (datetime(2020, 1, 1, 6), datetime(2026, 1, 1, 6)))
    assert fs.get("turnos").instances(wide) is None
    sql = str(fs.get("turnos").to_sql(wide).predicate(detections_table(1)).compile(dialect=sqlite.dialect()))
    assert "strftime" in sql


def test_merged_windows():
    assert merged_windows([(10, 20), (0, 5), (5, 8), (15, 30)]) == [(0, 8), (10, 30)]


# --- date range ---------------------------------------------------------------------------------

NOW = datetime(2026, 3, 15, 3, 30)  # a Sunday night, inside the night shift that began on the 14th
# Production days start at 06:00 (the first shift): at 03:30 on the 15th it is still the 14th.


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("hoy", datetime(2026, 3, 14, 6), datetime(2026, 3, 15, 6)),
        ("ayer", datetime(2026, 3, 13, 6), datetime(2026, 3, 14, 6)),
        ("ultimos_7_dias", datetime(2026, 3, 8, 6), datetime(2026, 3, 15, 6)),
        ("este_mes", datetime(2026, 3, 1, 6), datetime(2026, 3, 15, 6)),
        ("mes_anterior", datetime(2026, 2, 1, 6), datetime(2026, 3, 1, 6)),
        ("turno_actual", datetime(2026, 3, 14, 22), datetime(2026, 3, 15, 6)),
    ],
)
def test_presets(preset, start, end):
    assert date_filter(NOW).validate(preset) == DateRange(start, end, preset)
    assert date_filter(NOW).validate({"preset": preset}) == DateRange(start, end, preset)


def test_previous_month_across_the_year():
    value = date_filter(datetime(2026, 1, 10, 12)).validate("mes_anterior")
    assert (value.start, value.end) == (datetime(2025, 12, 1, 6), datetime(2026, 1, 1, 6))


def test_current_shift_in_the_afternoon_and_in_a_gap():
    afternoon = date_filter(datetime(2026, 3, 15, 14, 0)).validate("turno_actual")
    assert afternoon.start == datetime(2026, 3, 15, 14)
    f = date_filter(datetime(2026, 3, 15, 23, 0))
    assert f.validate("turno_actual").end == datetime(2026, 3, 16, 6)
    meta = synthetic_meta()
    gap = TenantMeta("acme", TZ, 1, meta.areas, meta.lines, meta.products, {1: meta.shifts[1]})
    g = DateRangeFilter(param="fecha", label="Fecha", config={"default_preset": "turno_actual"}, meta=gap,
                        clock=at_plant_time(datetime(2026, 3, 15, 20, 0)))
    with pytest.raises(ValidationFailed, match="no hay ningún turno en curso"):
        g.validate("turno_actual")
    assert g.default().preset == "hoy"


@pytest.mark.parametrize(
    ("raw", "start", "end"),
    [
        ({"preset": "personalizado", "start": "2026-02-01", "end": "2026-02-03"},
         datetime(2026, 2, 1, 6), datetime(2026, 2, 4, 6)),
        ({"start": "01/02/2026", "end": "01/02/2026"}, datetime(2026, 2, 1, 6), datetime(2026, 2, 2, 6)),
        ({"start": "2026-02-01T06:00:00", "end": "2026-02-01T14:00"},
         datetime(2026, 2, 1, 6), datetime(2026, 2, 1, 14)),
        # An explicit UTC offset is converted to plant time (Buenos Aires is UTC-3).
        ({"start": "2026-02-01T09:00:00+00:00", "end": "2026-02-01T12:00:00Z"},
         datetime(2026, 2, 1, 6), datetime(2026, 2, 1, 9)),
    ],
)
def test_custom_ranges(raw, start, end):
    assert date_filter(NOW).validate(raw) == DateRange(start, end, "personalizado")


def test_end_before_start_is_rejected_in_spanish_naming_the_field():
    with pytest.raises(ValidationFailed) as info:
        default_set().validate({"fecha": {"preset": "personalizado", "start": "2026-02-05",
                                          "end": "2026-02-01"}})
    assert info.value.details == [
        {"field": "fecha", "message": "Fecha: la fecha de fin es anterior a la fecha de inicio"}
    ]


def test_max_span():
    f = date_filter(NOW, max_days=31)
    assert f.validate({"start": "2026-01-01", "end": "2026-01-31"}).end == datetime(2026, 2, 1, 6)
    with pytest.raises(ValidationFailed, match="no puede superar 31 días"):
        f.validate({"start": "2026-01-01", "end": "2026-02-01"})
    with pytest.raises(ValidationFailed, match="no puede superar 1 días"):
        date_filter(NOW, max_days=1, default_preset="hoy").validate("ultimos_7_dias")


@pytest.mark.parametrize("raw", [
    "mañana", {"preset": "hoy", "start": "2026-01-01"}, {"start": "2026-13-01", "end": "2026-12-01"},
    {"start": "0001-01-01T00:00:00+05:00", "end": "2026-01-01"}, {"start": "9999-12-31", "end": "9999-12-31"},
    {"start": 20260101, "end": "2026-01-02"}, {"start": "2026-01-01"}, 5, [], {"extra": 1},
])
def test_date_range_rejects(raw):
    with pytest.raises(ValidationFailed):
        date_filter(NOW).validate(raw)


def test_date_fragment_is_a_time_range_the_builder_applies():
    value = date_filter(NOW).validate("ayer")
    frag = date_filter(NOW).to_sql(value)
    assert frag.time_range == (datetime(2026, 3, 13, 6), datetime(2026, 3, 14, 6))
    assert frag.predicate is None and frag.time_ranges is None
    compiled = build_query([2], {"ts"}, [frag]).statement().compile(dialect=sqlite.dialect())
    assert str(compiled).endswith("WHERE detections_2.ts >= ? AND detections_2.ts < ?")
    assert list(compiled.params.values()) == [datetime(2026, 3, 13, 6), datetime(2026, 3, 14, 6)]


@pytest.mark.clock
def test_timezone_drives_today():
    """Kiritimati (UTC+14) and Pago Pago (UTC-11) are on different dates at every instant."""
    meta = synthetic_meta()
    clock = frozen_test_clock()
    days = {}
    for tz in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        local = TenantMeta("x", tz, 1, meta.areas, meta.lines, meta.products, meta.shifts)
        f = DateRangeFilter(param="fecha", label="Fecha", config={}, meta=local, clock=clock)
        days[tz] = f.validate("hoy").start.date()
        wall = clock.now_utc().astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        assert days[tz] == (wall - timedelta(hours=6)).date()  # production days start at 06:00
    assert days["Pacific/Kiritimati"] > days["Pacific/Pago_Pago"]


# --- toggle and numeric range -------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    (True, True), ("false", False), ("on", True), ("off", False), (0, False), ("sí", True),
    (["false", "on"], True),
])
def test_toggle_shapes(raw, expected):
    assert default_set().validate({"incluir_rechazos": raw})["incluir_rechazos"] is expected


def test_toggle_off_keeps_only_good_units():
    fs = default_set()
    assert compile_sql(fs, {"incluir_rechazos": False}) == ["detections_1.status = ?"]
    assert compile_sql(fs, {"incluir_rechazos": True}) == []


@pytest.mark.parametrize(("raw", "expected"), [
    ({"min": 10, "max": "20,5"}, NumericRange(10.0, 20.5)),
    (["", "30"], NumericRange(None, 30.0)),
    ({"desde": "1.5"}, NumericRange(1.5, None)),
    ("todos", NumericRange()),
])
def test_numeric_range_shapes(raw, expected):
    assert default_set().validate({"peso": raw})["peso"] == expected


@pytest.mark.parametrize("raw", [{"min": 5, "max": 1}, {"min": -1}, {"min": "NaN"}, {"max": float("inf")},
                                 {"min": True}, [1, 2, 3], {"minimo": 1}, "10-20"])
def test_numeric_range_rejects(raw):
    with pytest.raises(ValidationFailed) as info:
        default_set().validate({"peso": raw})
    assert info.value.details[0]["field"] == "peso"


def test_open_numeric_range_adds_nothing_and_bounds_are_inclusive():
    fs = default_set()
    assert compile_sql(fs, {"peso": NumericRange()}) == []
    assert compile_sql(fs, {"peso": NumericRange(1, 2)}) == [
        "detections_1.weight_g >= ? AND detections_1.weight_g <= ?"
    ]


# --- the set: all errors at once, defaults, applied ---------------------------------------------


def test_every_bad_field_is_reported_at_once_in_display_order():
    with pytest.raises(ValidationFailed) as info:
        default_set().validate({"peso": "x", "lineas": [99], "fecha": "nunca", "otro_campo": "ignored"})
    assert [d["field"] for d in info.value.details] == ["fecha", "lineas", "peso"]
    assert info.value.to_dict()["error"] == "validation"


def test_missing_params_take_defaults_and_applied_is_json():
    fs = default_set()
    values = fs.validate({})
    assert values["incluir_rechazos"] is True and values["peso"] == NumericRange()
    applied = fs.applied(values)
    json.dumps(applied)
    assert applied["lineas"] == "todos" and applied["fecha"]["preset"] == "ultimos_7_dias"


@pytest.mark.parametrize("raw", [[1, 2], "text", 5])
def test_non_mapping_request_is_rejected(raw):
    with pytest.raises(ValidationFailed):
        default_set().validate(raw)


# --- rows → filter set --------------------------------------------------------------------------


def test_bad_rows_are_skipped_and_reported():
    def row(row_id, class_name, param, config):
        return {"id": row_id, "class_name": class_name, "param_name": param, "label": "L", "config": config}

    rows = [
        row(1, "LineFilter", "lineas", None),
        row(2, "os.system", "x", "{}"),
        row(3, "DateRangeFilter", "fecha", '{"max_days": 0}'),
        row(4, "ToggleFilter", "t", "{not json"),
        row(5, "ToggleFilter", "Bad Param", {}),
        row(6, "ToggleFilter", "lineas", {}),
        row(7, "ProductFilter", "p", {"depends_on": "zz"}),
        row(8, "ToggleFilter", "t2", '"{\\"default\\": false}"'),
        row(9, "NumericRangeFilter", "n", {"column": "status; DROP TABLE lines"}),
    ]
    fs = build_filter_set(rows, synthetic_meta())
    assert [f.param for f in fs.filters] == ["lineas", "t2"]
    assert fs.get("t2").default() is False  # double-encoded JSON config is read once more
    by_id = {e.row_id: e.message for e in fs.errors}
    assert sorted(by_id) == [2, 3, 4, 5, 6, 7, 9]
    assert "clase de filtro desconocida" in by_id[2]
    assert "max_days" in by_id[3]
    assert "JSON" in by_id[4]
    assert "repetido" in by_id[6]
    assert "depends_on" in by_id[7]
    assert "column" in by_id[9]


def test_entry_point_plugin_registers_a_filter(tmp_path, monkeypatch):
    """A third-party distribution declares a filter under the "camet.filters" entry point group."""
    pkg = tmp_path / "camet_plugin_demo.py"
    pkg.write_text(textwrap.dedent("""
        from filters import BaseFilter, filter_registry

        @filter_registry.register
        class ColorFilter(BaseFilter):
            kind = "color"

            def validate(self, raw, context=None):
                if raw not in (None, "rojo", "verde"):
                    raise self.fail("color desconocido")
                return raw
    """))
    dist = tmp_path / "camet_plugin_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: camet-plugin-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[camet.filters]\ncolor = camet_plugin_demo\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(filter_registry, "_entries", dict(filter_registry._entries))
    monkeypatch.setattr(filter_registry, "_entry_points_loaded", False)
    monkeypatch.delitem(sys.modules, "camet_plugin_demo", raising=False)
    fs = build_filter_set([{"id": 1, "class_name": "ColorFilter", "param_name": "color", "label": "Color"}],
                          synthetic_meta())
    assert fs.errors == [] and fs.validate({"color": "rojo"}) == {"color": "rojo"}
    with pytest.raises(ValidationFailed) as info:
        fs.validate({"color": "azul"})
    assert info.value.details == [{"field": "color", "message": "Color: color desconocido"}]
