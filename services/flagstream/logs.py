"""Logging for every Flagstream process: plain text or one JSON object per line, and ERROR only
when something is wrong.

`configure(fmt)` is called once by each composition root (the `flagstream` command). It also
installs `KafkaCloseNoise` on kafka-python's loggers: kafka-python 3.0 logs at ERROR, with
a traceback, two races that happen while a client is being closed and mean nothing:

* `kafka.cluster` "Metadata refresh: failed Cancelled": closing cancels a refresh in flight;
* `kafka.net.transport` "Error receiving network data" with AttributeError on `recv` or
  OSError EBADF ("Bad file descriptor"): the reader thread reads a socket close() just
  released.

Those two records are lowered to DEBUG (shown only when kafka's logger is set to DEBUG),
and so is `kafka.net.selector`'s WARNING "Task ... ran for 0.2s (>0.100s threshold)" for a
step under `SLOW_STEP_S`: on a busy 2-core host our own threads hold the GIL that long,
which no operator can act on; a step of a second or more (a real livelock in the client)
keeps its WARNING. Every other kafka-python record, including a refresh that fails for any
other reason, keeps its level. See docs/operations.md "Logs".
"""

from __future__ import annotations

import errno
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Literal

from kafka import errors as kafka_errors
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
QUIET = ("kafka", "aiokafka", "faust", "mode", "httpx")  # their INFO is chatter: WARNING and up
SLOW_STEP_S = 1.0  # kafka-python's slow-step warnings below this are lowered to DEBUG
_SLOW_STEP = re.compile(r"^Task .* ran for (\d+(?:\.\d+)?)s \(>")


class LogSettings(BaseSettings):
    """How a process logs: read from the environment before anything else (FLAGSTREAM_LOG_*)."""

    model_config = SettingsConfigDict(env_prefix="FLAGSTREAM_LOG_", frozen=True, extra="ignore")

    format: LogFormat = Field("text", description="text (one line per record) or json")
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="root level")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, and the
    exception's type and text (a traceback only with `exc_info` already formatted)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            entry["error"] = f"{type(exc).__name__}: {exc}"
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _is_close_race(record: logging.LogRecord) -> bool:
    if record.name == "kafka.cluster" and record.msg == "Metadata refresh: failed %s":
        args = record.args
        return (
            isinstance(args, tuple) and bool(args) and isinstance(args[0], kafka_errors.Cancelled)
        )
    if record.name == "kafka.net.transport" and str(record.msg).endswith(
        "Error receiving network data closing socket"
    ):
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, AttributeError):
            return "recv" in str(exc)
        return isinstance(exc, OSError) and exc.errno == errno.EBADF
    return False


def _is_short_slow_step(record: logging.LogRecord) -> bool:
    if record.name != "kafka.net.selector":
        return False
    found = _SLOW_STEP.match(record.getMessage())
    return found is not None and float(found.group(1)) < SLOW_STEP_S


class KafkaCloseNoise(logging.Filter):
    """Lowers kafka-python's close-time races (see the module text) from ERROR to DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and _is_short_slow_step(record):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger("kafka").isEnabledFor(logging.DEBUG)
        if record.levelno < logging.ERROR or not _is_close_race(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.exc_info, record.exc_text = None, None
        return logging.getLogger("kafka").isEnabledFor(logging.DEBUG)


def install_kafka_filter() -> None:
    """Filter kafka-python's three noisy loggers (idempotent)."""
    for name in ("kafka.cluster", "kafka.net.transport", "kafka.net.selector"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, KafkaCloseNoise) for f in logger.filters):
            logger.addFilter(KafkaCloseNoise())


def configure(fmt: LogFormat = "text", level: int | str = logging.INFO) -> None:
    """The root handler on stderr in `fmt`, chatty libraries at WARNING, kafka's noise lowered.
    A process whose logging is already configured (a host embedding it, a test runner) keeps
    its handlers, as logging.basicConfig would; only the levels and the filter are set."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    install_kafka_filter()
