"""The per-process result cache lets go of answers whose time is up, not only when asked again.

Live ingestion moves the data watermark, so every run has a new key and no key is looked up
twice: expired answers must still leave memory (they held ~70 MB of an engine after a load test).
"""

from __future__ import annotations

from datetime import timedelta

from engine import result_cache
from engine.result_cache import ResultCache
from tests.helpers import frozen_test_clock


def _answer(size: int) -> dict:
    return {"widgets": [{"data": "x" * size}]}


def test_expired_answers_leave_on_the_next_put_without_being_asked_for() -> None:
    clock = frozen_test_clock()
    cache = ResultCache(ttl_s=30, clock=clock)
    for i in range(10):
        cache.put(f"run-{i}", _answer(1000))
    assert len(cache._local) == 10
    clock.advance(timedelta(seconds=31))
    cache.put("run-new", _answer(1000))
    assert list(cache._local) == ["run-new"]
    assert cache._local_bytes == len(cache._local["run-new"][2])


def test_an_entry_is_served_until_its_time_and_not_after() -> None:
    clock = frozen_test_clock()
    cache = ResultCache(ttl_s=30, clock=clock)
    cache.put("a", _answer(10))
    clock.advance(timedelta(seconds=29))
    assert cache.get("a") == _answer(10)
    clock.advance(timedelta(seconds=1))
    assert cache.get("a") is None
    assert cache._local_bytes == 0


def test_the_oldest_answers_go_first_when_the_bytes_are_full(monkeypatch) -> None:
    monkeypatch.setattr(result_cache, "MAX_LOCAL_BYTES", 10_000)
    cache = ResultCache(ttl_s=30, clock=frozen_test_clock())
    for i in range(5):
        cache.put(f"run-{i}", _answer(3000))
    assert list(cache._local) == ["run-2", "run-3", "run-4"]
    assert cache._local_bytes <= 10_000
    assert cache.get("run-4") == _answer(3000)


def test_putting_a_key_again_counts_its_bytes_once() -> None:
    cache = ResultCache(ttl_s=30, clock=frozen_test_clock())
    cache.put("a", _answer(500))
    cache.put("a", _answer(500))
    assert cache._local_bytes == len(cache._local["a"][2])


def test_a_newer_watermark_replaces_the_answer_of_the_same_run() -> None:
    """Live data moves the watermark: the slot keeps one answer, the old key is not served."""
    cache = ResultCache(ttl_s=30, clock=frozen_test_clock())
    cache.put("run@w1", _answer(100), slot="run")
    cache.put("other@w1", _answer(100), slot="other")
    cache.put("run@w2", _answer(200), slot="run")
    assert len(cache._local) == 2
    assert cache.get("run@w1", slot="run") is None
    assert cache.get("run@w2", slot="run") == _answer(200)
    assert cache.get("other@w1", slot="other") == _answer(100)
