"""Extensions: modules that add event kinds and flags, named by FLAGSTREAM_EXTENSIONS and
imported by every composition root before anything else is built.

An extension module registers its kinds with `flagstream.catalogue.register` and its flags
with the flag catalogue when imported; its Avro schemas sit in the folder its kinds name.
Every process of a deployment must load the same extensions - ingest accepts, the flagger
folds, the projector writes and the dashboard shows what the catalogue holds
(docs/adding-a-stream.md).
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger("flagstream.extensions")


class ExtensionSettings(BaseSettings):
    """FLAGSTREAM_EXTENSIONS: comma-separated module names, e.g. `council.asb,council.ey`."""

    model_config = SettingsConfigDict(env_prefix="FLAGSTREAM_", frozen=True, extra="ignore")

    extensions: str = Field("", description="comma-separated extension modules to import")

    @property
    def modules(self) -> list[str]:
        """The module names, in order, without blanks."""
        return [m.strip() for m in self.extensions.split(",") if m.strip()]


class ExtensionError(RuntimeError):
    """An extension named in the settings cannot be imported."""


def load(names: list[str] | None = None) -> list[ModuleType]:
    """Import the extensions (idempotent: a module is imported once per process)."""
    loaded = []
    for name in ExtensionSettings().modules if names is None else names:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ExtensionError(
                f"extension {name!r} (FLAGSTREAM_EXTENSIONS) cannot be imported: {exc}. "
                "Install it in this environment or remove it from the setting."
            ) from exc
        log.info("extension %s loaded", name)
        loaded.append(module)
    return loaded
