"""Running Flagstream services as child processes (demo and end-to-end tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


class ServiceProcess:
    """One `flagstream <command>` child process with its own log file."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.command, self._env, self.log_path = command, env, log_path
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        """Start it with FLAGSTREAM_* settings layered over this process's environment."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it until it exits
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "flagstream_tools.cli", *self.command],
            env={**os.environ, **self._env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        return self

    def alive(self) -> bool:
        """True while the process runs."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """Its exit code once it has exited."""
        return None if self._proc is None else self._proc.poll()

    @property
    def pid(self) -> int | None:
        """Its process id while started."""
        return None if self._proc is None else self._proc.pid

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after timeout; returns the exit code."""
        return terminate(self._proc, timeout)

    def tail(self, lines: int = 20) -> str:
        """The end of its log, for error messages."""
        return log_tail(self.log_path, lines)


def terminate(proc: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> int | None:
    """SIGTERM a child process, then SIGKILL after timeout; returns its exit code."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
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
