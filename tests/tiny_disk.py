"""Real disk faults for tests: a directory on a full file system, or a read-only one.

A full disk is a tmpfs of a few KiB mounted on the directory and filled with one file until the
kernel itself answers ENOSPC (`fill()`); `free()` removes the filler. Mounting needs root with
CAP_SYS_ADMIN (the CI container has it); elsewhere those tests are skipped with that reason.

A read-only directory comes from the kernel too: as root (which ignores file permissions, so a
chmod proves nothing) a read-only bind mount of the directory onto itself (EROFS); as any other
user, mode 0500 (EACCES). Both are undone at the end of the block.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise OSError(done.stderr.strip() or f"mount {' '.join(args)} failed")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


class TinyDisk:
    """A mounted tmpfs; `fill()` makes it full, `free()` gives the space back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / ".filler"

    def fill(self) -> None:
        """Write until ENOSPC, then check that not even one more byte fits."""
        with open(self.filler, "ab", buffering=0) as out:
            try:
                while True:
                    out.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
        with pytest.raises(OSError), open(self.path / ".probe", "wb") as probe:
            probe.write(b"x" * 8192)
            probe.flush()
            os.fsync(probe.fileno())
        with suppress(FileNotFoundError):
            (self.path / ".probe").unlink()

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def entries(self) -> list[str]:
        """What the application left in the directory (the filler excluded)."""
        return sorted(p.name for p in self.path.iterdir() if p.name != self.filler.name)


def _may_mount() -> str | None:
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root (CAP_SYS_ADMIN)"
    return None


@contextmanager
def tiny_tmpfs(path: Path, size_kib: int = 64) -> Iterator[TinyDisk]:
    """A tmpfs of `size_kib` KiB mounted on `path` (created if missing), unmounted at the end."""
    reason = _may_mount()
    if reason:
        pytest.skip(reason)
    path.mkdir(parents=True, exist_ok=True)
    try:
        _mount("-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "tmpfs", str(path))
    except OSError as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    try:
        yield TinyDisk(path)
    finally:
        _umount(path)


@contextmanager
def read_only_dir(path: Path) -> Iterator[None]:
    """`path` (created if missing) refuses writes for this process until the block ends."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        mode = path.stat().st_mode & 0o7777
        path.chmod(0o500)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    try:
        _mount("--bind", str(path), str(path))
    except OSError as exc:
        pytest.skip(f"cannot bind-mount here: {exc}")
    try:
        _mount("-o", "remount,bind,ro", str(path))
        yield
    finally:
        _umount(path)
