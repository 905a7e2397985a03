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


EARLY_YEARS = "flagstream.early_years"


@contextmanager
def early_years_loaded() -> Iterator[ModuleType]:
    """The early-years stream (docs/families.md) imported for a with-block - its kind and the
    EY flag registered - then removed again, as asb_loaded."""
    from flagstream.domain.rules import DEFAULT_RULES, register_rule

    module = importlib.import_module(EARLY_YEARS)
    catalogue.register(module.KIND)  # again, if an earlier block removed it
    if "EY" not in DEFAULT_RULES:
        register_rule(module.EY)
    try:
        yield module
    finally:
        catalogue.unregister(module.KIND)
        unregister_rule(module.EY)
        sys.modules.pop(EARLY_YEARS, None)
