"""Child processes the benchmark starts, with their peak resident memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flagstream_tools.demo.processes import log_tail, terminate


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a live process in MiB, from /proc; None if unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class Proc:
    """One child process (a `flagstream` command or a bench module) logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name, self._argv, self._env, self.log_path = name, argv, env, log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self.peak_mb: float | None = None

    @classmethod
    def flagstream(cls, command: str, env: dict[str, str], logs: Path, name: str = "") -> Proc:
        """`python -m flagstream_tools.cli <command>`: the same entry point operators run."""
        name = name or command
        argv = [sys.executable, "-m", "flagstream_tools.cli", command]
        return cls(name, argv, env, logs / f"{name}.log")

    def start(self) -> Proc:
        """Start it with the given settings layered over this process's environment."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                self._argv,
                env={**os.environ, **self._env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self

    @property
    def pid(self) -> int:
        """Its process id (it must have been started)."""
        assert self._proc is not None, "not started"
        return self._proc.pid

    def alive(self) -> bool:
        """True while it runs."""
        return self._proc is not None and self._proc.poll() is None

    def check(self) -> None:
        """Raise with the end of its log if it has died."""
        if self._proc is not None and not self.alive():
            raise RuntimeError(
                f"{self.name} exited with {self._proc.returncode}; "
                f"last lines of {self.log_path}:\n{self.tail()}"
            )

    def sample(self) -> float | None:
        """Read the peak RSS now (it is lost once the process is reaped)."""
        if self.alive():
            peak = peak_rss_mb(self.pid)
            if peak is not None:
                self.peak_mb = max(self.peak_mb or 0.0, peak)
        return self.peak_mb

    def kill(self) -> float | None:
        """Record peak RSS, then SIGKILL - a crash: nothing flushed or committed on the way
        out; returns the peak RSS in MiB."""
        self.sample()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(15)
        return self.peak_mb

    def stop(self, timeout: float = 15.0) -> float | None:
        """Record peak RSS, SIGTERM, SIGKILL after timeout; returns the peak RSS in MiB."""
        self.sample()
        terminate(self._proc, timeout)
        return self.peak_mb

    def tail(self, lines: int = 20) -> str:
        """The end of its log."""
        return log_tail(self.log_path, lines)
