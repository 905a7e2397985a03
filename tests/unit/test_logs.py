"""Logs say ERROR only when something is wrong; JSON logs are one object per line."""

from __future__ import annotations

import errno
import json
import logging

import pytest
from kafka import errors as kafka_errors

from flagstream import logs


@pytest.fixture
def captured() -> list[logging.LogRecord]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.DEBUG)
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logs.install_kafka_filter()
    yield records
    root.removeHandler(handler)
    root.setLevel(saved)


def _raised(exc: BaseException) -> tuple[type[BaseException], BaseException, None]:
    return (type(exc), exc, None)


def test_kafka_close_races_are_not_errors(captured: list[logging.LogRecord]) -> None:
    # The exact calls kafka-python 3.0 makes (kafka/cluster.py, kafka/net/transport.py).
    logging.getLogger("kafka.cluster").error(
        "Metadata refresh: failed %s", kafka_errors.Cancelled()
    )
    transport = logging.getLogger("kafka.net.transport")
    try:
        None.recv(4096)  # type: ignore[attr-defined]
    except AttributeError:
        transport.exception("%s: Error receiving network data closing socket", "<conn>")
    try:
        raise OSError(errno.EBADF, "Bad file descriptor")
    except OSError:
        transport.exception("%s: Error receiving network data closing socket", "<conn>")
    assert [r for r in captured if r.levelno >= logging.ERROR] == []


def test_other_kafka_errors_keep_their_level(captured: list[logging.LogRecord]) -> None:
    logging.getLogger("kafka.cluster").error(
        "Metadata refresh: failed %s", kafka_errors.NodeNotReadyError("metadata")
    )
    try:
        raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    except OSError:
        logging.getLogger("kafka.net.transport").exception(
            "%s: Error receiving network data closing socket", "<conn>"
        )
    assert [r.levelname for r in captured] == ["ERROR", "ERROR"]


def test_a_lowered_record_is_shown_at_debug_when_kafka_logs_debug(
    captured: list[logging.LogRecord],
) -> None:
    kafka_logger = logging.getLogger("kafka")
    saved = kafka_logger.level
    kafka_logger.setLevel(logging.DEBUG)
    try:
        logging.getLogger("kafka.cluster").error(
            "Metadata refresh: failed %s", kafka_errors.Cancelled()
        )
    finally:
        kafka_logger.setLevel(saved)
    assert [r.levelname for r in captured] == ["DEBUG"]


def test_json_lines_carry_level_logger_message_and_error() -> None:
    formatter = logs.JsonFormatter()
    try:
        raise ValueError("bad row")
    except ValueError as exc:
        record = logging.LogRecord(
            "flagstream.projector", logging.ERROR, __file__, 1, "row %d", (3,), _raised(exc)
        )
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "flagstream.projector"
    assert entry["message"] == "row 3"
    assert entry["error"] == "ValueError: bad row"
    assert entry["time"].endswith("+00:00")


def test_log_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAGSTREAM_LOG_FORMAT", "json")
    assert logs.LogSettings().format == "json"
    monkeypatch.setenv("FLAGSTREAM_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="format"):
        logs.LogSettings()


def test_configure_keeps_a_host_s_handlers_and_adds_one_only_when_there_is_none() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        kept = logging.NullHandler()
        root.handlers[:] = [kept]
        logs.configure("json")
        assert root.handlers == [kept]
        root.handlers[:] = []
        logs.configure("json")
        assert len(root.handlers) == 1
        assert isinstance(root.handlers[0].formatter, logs.JsonFormatter)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def test_a_short_slow_step_of_kafka_python_is_not_a_warning(
    captured: list[logging.LogRecord],
) -> None:
    # As kafka/net/selector.py logs it: the message formatted before the call.
    selector = logging.getLogger("kafka.net.selector")
    template = (
        "Task %r ran for %.3fs (>%.3fs threshold). It is blocking the event loop -- likely "
        "a tight sync loop inside a coroutine. Other pollers will time out."
    )
    selector.warning(template % ("<Task 1>", 0.363, 0.1))
    selector.warning(template % ("<Task 2>", 2.5, 0.1))  # a real livelock keeps its WARNING
    selector.warning("Task <Task 3> left RUNNING after step; demoting to UNSCHEDULED")
    assert [(r.levelname, r.getMessage()[:13]) for r in captured] == [
        ("WARNING", "Task '<Task 2"),
        ("WARNING", "Task <Task 3>"),
    ]
