"""Flagstream's kernel: the domain core, the catalogue of event kinds, the wire format (Avro
codec), Kafka and SQL helpers, settings and logging. It imports no service and no tool
(docs/architecture.md; tests/unit/test_import_direction.py checks it)."""
