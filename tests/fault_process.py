"""A server process that fault tests signal: freeze (SIGSTOP), thaw (SIGCONT), kill (SIGKILL).

The private MariaDB and Redis servers of the fault tests share these; each adds how it starts.
"""

from __future__ import annotations

import signal
import subprocess


class SignalledProcess:
    """Holds the server's Popen; a frozen server is thawed before it is killed or stopped."""

    process: subprocess.Popen | None = None
    frozen: bool = False

    def freeze(self) -> None:
        """SIGSTOP: the kernel still accepts connections into the listen backlog, nothing is
        answered (a host that hangs)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        """SIGCONT after `freeze()`."""
        if self.process is not None and self.frozen:
            self.process.send_signal(signal.SIGCONT)
        self.frozen = False

    def kill(self) -> None:
        """SIGKILL: the port closes, connections are refused (the OOM killer, an operator)."""
        if self.process is None:
            return
        self.thaw()
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None
