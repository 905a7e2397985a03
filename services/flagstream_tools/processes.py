"""Flagstream services as child processes (demo, supervisor, bench and tests), each with its
own log file and its peak resident memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

CLI = "flagstream_tools.cli"  # `python -m flagstream_tools.cli` = the `flagstream` command


class ServiceProcess:
    """One child process - a `flagstream <command>` by default, or another module - logging
    to a file. `name` labels it in messages (default: its first argument)."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        log_path: Path,
        *,
        name: str = "",
        module: str = CLI,
    ) -> None:
        self.command, self._env, self.log_path = command, env, log_path
        self.name = name or (command[0] if command else module)
        self._argv = [sys.executable, "-m", module, *command]
        self._proc: subprocess.Popen[bytes] | None = None
        self.peak_mb: float | None = None

    @classmethod
    def flagstream(
        cls, command: str, env: dict[str, str], logs: Path, name: str = ""
    ) -> ServiceProcess:
        """`flagstream <command>` logging to LOGS/<name>.log: the entry point operators run."""
        name = name or command
        return cls([command], env, logs / f"{name}.log", name=name)

    def start(self) -> ServiceProcess:
        """Start it with FLAGSTREAM_* settings layered over this process's environment."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self._proc = subprocess.Popen(
                self._argv,
                env={**os.environ, **self._env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self

    def alive(self) -> bool:
        """True while the process runs."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """Its exit code once it has exited."""
        return None if self._proc is None else self._proc.poll()

    @property
    def pid(self) -> int:
        """Its process id (it must have been started)."""
        if self._proc is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self._proc.pid

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

    def stop(self, timeout: float = 15.0) -> int | None:
        """Record peak RSS, SIGTERM, then SIGKILL after timeout; returns the exit code."""
        self.sample()
        return terminate(self._proc, timeout)

    def tail(self, lines: int = 20) -> str:
        """The end of its log, for error messages."""
        return log_tail(self.log_path, lines)


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a live process in MiB, from /proc; None if unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def terminate(
    proc: subprocess.Popen[bytes] | None, timeout: float = 15.0, first: int = signal.SIGTERM
) -> int | None:
    """Signal a child process to stop (SIGTERM unless told), then SIGKILL after timeout;
    returns its exit code."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(first)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return proc.returncode


def log_tail(path: Path, lines: int = 20) -> str:
    """The end of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
