"""Flagstream shared code: domain core, Avro codec, settings, broker, generator, CLI."""

__version__ = "0.1.0"
