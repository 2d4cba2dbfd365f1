"""Memory policy: RSS measurement and giving the heap back after a run."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from core.memory import memory_scope, peak_rss_bytes, release_if_grown, release_memory, rss_bytes

MB = 1024 * 1024


def test_rss_is_measured():
    assert rss_bytes() > 10 * MB
    assert peak_rss_bytes() >= rss_bytes() - MB


def test_scope_sees_the_peak_and_gets_memory_back():
    release_memory()
    with memory_scope() as report:
        big = np.ones(200 * MB // 8)  # touched pages: really resident
        assert rss_bytes() > report.before + 150 * MB
        del big
    assert report.peak >= report.before + 150 * MB
    assert report.after < report.before + 50 * MB
    assert set(report.as_dict()) == {"rss_before_mb", "rss_peak_mb", "rss_after_mb"}


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_many_small_objects_are_trimmed_back():
    release_memory()
    with memory_scope() as report:
        chunks = [bytes(1000) + bytes([i % 256]) for i in range(200_000)]  # ~200 MB of small blocks
        assert rss_bytes() > report.before + 100 * MB
        del chunks
    assert report.after < report.before + 60 * MB


def test_gc_pause_nests_and_restores():
    import gc

    from core.memory import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # was off before: stays off
    finally:
        gc.enable()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_a_run_gives_memory_back_only_when_it_grew():
    release_memory()
    before = rss_bytes()
    assert release_if_grown(before) is False  # a small run skips the ~0.1 s collection
    chunks = [bytes(1000) + bytes([i % 256]) for i in range(200_000)]
    assert rss_bytes() > before + 100 * MB
    assert release_if_grown(before) is True  # still held: released what it could
    del chunks
    release_if_grown(before)
    assert rss_bytes() < before + 60 * MB
