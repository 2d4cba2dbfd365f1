"""MetadataCache on SQLite and MariaDB: indexes agree with plain SQL, a change made by another
process is picked up after the check interval via the cheap version check, and concurrent first
requests load a tenant once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from datetime import date

import pytest
from sqlalchemy import select, text

from core import schema_tenant as t
from core.errors import NotFound
from core.metadata_cache import MetadataCache
from core.settings import PROJECT_ROOT
from ingest.plant_metadata import load_plant_text


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


TODAY = date(2026, 11, 18)
NEW_PRODUCT = """
products:
  - {code: NEW-1, name: "Producto nuevo", nominal_weight_g: 33, lines: [L2, L3]}
lines:
  - {code: L1, name: "Línea 1 renombrada", area: snacks, ideal_rate_per_min: 90,
     micro_stop_s: 15, stop_threshold_s: 120}
"""


def test_indexes_agree_with_plain_sql(runtime, plant_tenant):
    meta = runtime.meta.get(plant_tenant)
    with runtime.db.tenant(plant_tenant) as conn:
        pairs = conn.execute(text("SELECT line_id, product_id FROM line_products")).all()
        areas = conn.execute(select(t.lines.c.id, t.lines.c.area_id)).all()  # `lines` is reserved on MariaDB
        n_products = conn.execute(text("SELECT COUNT(*) FROM products WHERE active = 1")).scalar()
    by_line: dict[int, set[int]] = {}
    for line_id, product_id in pairs:
        by_line.setdefault(line_id, set()).add(product_id)
    assert meta.products_by_line == {k: frozenset(v) for k, v in by_line.items()}
    by_area: dict[int, set[int]] = {}
    for line_id, area_id in areas:
        by_area.setdefault(area_id, set()).add(line_id)
    assert meta.lines_by_area == {k: frozenset(v) for k, v in by_area.items()}
    assert len(meta.products) == n_products == 18
    assert all(meta.products_by_code[p.code] is p for p in meta.products.values())
    assert meta.timezone == "America/Argentina/Buenos_Aires"
    with pytest.raises(NotFound):
        meta.line_by_code("nope")


def test_change_in_another_cache_is_seen_after_the_interval(runtime, plant_tenant):
    clock = FakeClock()
    reader = MetadataCache(runtime.db, check_interval_s=2.0, clock=clock)
    writer_view = MetadataCache(runtime.db, check_interval_s=2.0, clock=clock)
    before = reader.get(plant_tenant)
    assert writer_view.get(plant_tenant).version == before.version

    load_plant_text(runtime.db, plant_tenant, NEW_PRODUCT, today=TODAY)  # bumps metadata_version

    clock.now += 1.0  # within the interval: no DB access at all, the snapshot is kept
    assert reader.get(plant_tenant) is before
    clock.now += 1.5
    after = reader.get(plant_tenant)
    assert after.version == before.version + 1
    assert "NEW-1" in after.products_by_code and "NEW-1" not in before.products_by_code
    new_id = after.products_by_code["NEW-1"].id
    l2, l3 = after.line_by_code("L2").id, after.line_by_code("L3").id
    assert new_id in after.products_by_line[l2] and new_id in after.products_by_line[l3]
    assert after.line_by_code("L1").name == "Línea 1 renombrada"
    assert (reader.stats.loads, reader.stats.version_checks) == (2, 1)


def test_unchanged_version_costs_one_check_not_a_reload(runtime, plant_tenant):
    clock = FakeClock()
    cache = MetadataCache(runtime.db, check_interval_s=2.0, clock=clock)
    first = cache.get(plant_tenant)
    for _ in range(3):
        clock.now += 5
        assert cache.get(plant_tenant) is first
    assert (cache.stats.loads, cache.stats.version_checks) == (1, 3)
    with runtime.db.tenant(plant_tenant) as conn:  # the caller's connection is used for the check
        clock.now += 5
        assert cache.get(plant_tenant, conn=conn) is first
    assert cache.stats.version_checks == 4
    cache.invalidate(plant_tenant)
    assert cache.get(plant_tenant) is not first and cache.stats.loads == 2


def test_change_from_a_separate_os_process(runtime, plant_tenant, tmp_path):
    """A real second process (its own interpreter and engine) changes metadata."""
    cache = MetadataCache(runtime.db, check_interval_s=0.0)
    before = cache.get(plant_tenant)
    s = runtime.settings
    script = textwrap.dedent(f"""
        from core.db import DatabaseManager
        from ingest.plant_metadata import load_plant_text
        from core.settings import load_settings
        s = load_settings(env="test", var_dir={str(s.var_dir)!r}, central_db_url={s.central_db_url!r},
                          secret_key="x" * 40, jwt_secret="y" * 40)
        import datetime
        load_plant_text(DatabaseManager(s), {plant_tenant!r}, {NEW_PRODUCT!r},
                        today=datetime.date(2026, 11, 18))
    """)
    subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, check=True, timeout=120)
    after = cache.get(plant_tenant)
    assert after.version == before.version + 1 and "NEW-1" in after.products_by_code


def test_concurrent_first_requests_load_once(runtime, plant_tenant):
    cache = MetadataCache(runtime.db)
    barrier = threading.Barrier(12)
    results = []

    def worker() -> None:
        barrier.wait()
        results.append(cache.get(plant_tenant))

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 12 and all(r is results[0] for r in results)
    assert cache.stats.loads == 1


def test_unknown_tenant_is_not_found(runtime, plant_tenant):
    with pytest.raises(NotFound):
        MetadataCache(runtime.db).get("nobody")


def test_memo_is_per_snapshot(runtime, plant_tenant):
    clock = FakeClock()
    cache = MetadataCache(runtime.db, clock=clock)
    first = cache.get(plant_tenant)
    calls = []
    assert first.memo("k", lambda: calls.append(1) or [1]) is first.memo("k", lambda: calls.append(1) or [2])
    assert calls == [1]
    load_plant_text(runtime.db, plant_tenant, NEW_PRODUCT, today=TODAY)
    clock.now += 10
    assert cache.get(plant_tenant).memo("k", lambda: [3]) == [3]
