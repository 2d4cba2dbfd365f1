"""Memory policy: RSS measurement and giving the heap back after a run."""

from __future__ import annotations

import asyncio
import platform
import subprocess
import sys

import numpy as np
import pytest

from core import memory
from core.memory import RunMemory, memory_scope, peak_rss_bytes, release_memory, released_after, rss_bytes
from core.settings import PROJECT_ROOT

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


def test_runs_release_when_one_grew_or_when_the_burst_is_over():
    rss = {"now": 100 * MB}

    def release() -> None:
        rss["now"] = 110 * MB  # what giving the heap back leaves

    policy = RunMemory(threshold=32 * MB, rss=lambda: rss["now"], release=release)
    first = policy.started()
    assert policy.finished(first) is True  # the first time idle: always (baseline unknown)
    policy.release()

    a = policy.started()
    rss["now"] += 20 * MB
    b = policy.started()  # a burst: each run grows the heap less than the threshold
    rss["now"] += 20 * MB
    assert policy.finished(b) is False  # b grew 20 MB and a is still running
    assert policy.finished(a) is True  # the last one out: 150 MB > 110 MB left by the release + 8
    policy.release()

    c = policy.started()
    d = policy.started()
    rss["now"] += 40 * MB  # one run that grew the heap on its own
    assert policy.finished(c) is True  # even with d still in flight
    policy.release()
    rss["now"] += 5 * MB
    assert policy.finished(d) is False  # idle, 5 MB above what the last release left
    e = policy.started()
    rss["now"] += 5 * MB
    assert policy.finished(e) is True  # idle, 10 MB above it: over the idle threshold (8 MB)


def test_a_decorated_run_is_counted_out_even_when_it_fails(monkeypatch):
    released = []
    monkeypatch.setattr(memory, "RUN_MEMORY", RunMemory(threshold=32 * MB, rss=lambda: 100 * MB,
                                                        release=lambda: released.append(1)))

    @released_after
    async def failing() -> None:
        raise ValueError("bad filters")

    @released_after
    async def answering() -> int:
        return 5

    with pytest.raises(ValueError):
        asyncio.run(failing())
    assert released == [1]  # counted out, idle for the first time: released after the run
    assert asyncio.run(answering()) == 5
    assert released == [1]  # idle again, nothing grew since the last release


_FRAGMENTING_RUN = """
import sys
from core.memory import rss_bytes, tune_allocator
if sys.argv[1] == "tuned":
    assert tune_allocator(128, 2)
slide = bytearray(8 << 20)  # a freed 8 MB mapping slides glibc's threshold up to 8 MB
del slide
base = rss_bytes()
big, small = [], []
for _ in range(200):  # a run's 1 MB buffers, with small survivors allocated between them
    big.append(bytearray(1 << 20))
    small.append(bytearray(2000))
del big
print((rss_bytes() - base) >> 20)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
@pytest.mark.parametrize(("mode", "retained_mb"), [("tuned", (0, 20)), ("default", (150, 400))])
def test_a_tuned_allocator_gives_freed_megabyte_blocks_back(mode, retained_mb):
    """The untuned control keeps ~200 MB: proof that the tuning is what returns it."""
    out = subprocess.run([sys.executable, "-c", _FRAGMENTING_RUN, mode], capture_output=True, text=True,  # noqa: S603
                         check=True, cwd=PROJECT_ROOT,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": "."})
    low, high = retained_mb
    assert low <= int(out.stdout) <= high, out.stdout


def test_page_requests_count_in_the_process_policy_and_release_once_idle(monkeypatch, flask_app):
    """A page request that grew the heap gives it back after answering (in a thread), like a run."""
    import threading

    rss = {"now": 100 * MB}
    released = threading.Event()

    def release() -> None:
        rss["now"] = 100 * MB
        released.set()

    policy = RunMemory(threshold=32 * MB, rss=lambda: rss["now"], release=release)
    policy.release()  # a baseline, so only growth releases from here on
    released.clear()
    monkeypatch.setattr(memory, "RUN_MEMORY", policy)

    @flask_app.get("/_grow")
    def grow() -> str:
        rss["now"] += 40 * MB
        return "grown"

    client = flask_app.test_client()
    assert client.get("/health").status_code == 200
    assert not released.wait(0.5)  # idle, nothing grew
    assert client.get("/_grow").status_code == 200
    assert released.wait(5)
    assert policy._active == 0


def test_a_release_already_running_is_not_started_twice():
    import threading

    gate, calls = threading.Event(), []

    def slow_release() -> None:
        calls.append(1)
        gate.wait(5)

    policy = RunMemory(threshold=32 * MB, rss=lambda: 100 * MB, release=slow_release)
    first = threading.Thread(target=policy.release)
    first.start()
    while not calls:
        pass
    policy.release()  # returns at once: the first one still holds the heap
    gate.set()
    first.join()
    assert calls == [1]
