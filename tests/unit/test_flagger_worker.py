"""The flagger's Faust worker logs at the level asked for, not DEBUG (its spinner's level)."""

import logging

import faust

from flagger.main import worker


def test_the_worker_keeps_the_root_logger_at_the_level_asked_for() -> None:
    app = faust.App("flagstream-test-worker", broker="kafka://127.0.0.1:1", web_enabled=False)
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        worker(app, "warn")._setup_logging()
        assert root.level == logging.WARNING
        assert not root.isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
