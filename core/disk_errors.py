"""What an OSError from writing under var/ means for an operator: a full disk, or one that
refuses writes (read-only mount, permissions), or something else.

Sessions and uploads use it to tell the user which of these is wrong instead of a generic
error, and to log the cause in words (`[Errno 28] No space left on device` becomes
"no space left on device (ENOSPC)").
"""

from __future__ import annotations

import errno
import os
from typing import Literal

DiskFault = Literal["full", "not_writable", "other"]

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_NOT_WRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def disk_fault(exc: OSError) -> DiskFault:
    """The kind of disk failure an OSError reports."""
    if exc.errno in _FULL:
        return "full"
    if exc.errno in _NOT_WRITABLE:
        return "not_writable"
    return "other"


def describe(exc: OSError) -> str:
    """The error in words with its errno name, without the file name."""
    if exc.errno is None:
        return type(exc).__name__
    name = errno.errorcode.get(exc.errno, str(exc.errno))
    return f"{os.strerror(exc.errno).lower()} ({name})"


def unwritable_reason(directory: os.PathLike[str] | str) -> str | None:
    """None when a file can be created, written and removed in `directory`; else why not.
    A probe for health checks: it writes a few bytes and removes them."""
    path = os.path.join(os.fspath(directory), f".write-probe-{os.getpid()}")
    try:
        with open(path, "wb") as probe:
            probe.write(b"probe")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return describe(exc)
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    return None
