"""Extensions used by tests: a council's own streams and flags, loaded by FLAGSTREAM_EXTENSIONS
exactly as a deployment would load its own."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from flagstream import catalogue
from flagstream.domain.rules import unregister_rule

ASB = "tests.extensions.asb"


@contextmanager
def asb_loaded() -> Iterator[ModuleType]:
    """The ASB extension imported (its kind and flag registered) for a with-block, then
    removed again, so no other test sees them."""
    module = importlib.import_module(ASB)
    try:
        yield module
    finally:
        catalogue.unregister(module.KIND)
        unregister_rule(module.ASB)
        sys.modules.pop(ASB, None)
