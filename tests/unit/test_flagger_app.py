"""How the flagger's Faust app is built: it declares no topic, uses the names
`flagstream topics create` makes, and sizes RocksDB for its working set. Built, not started."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from flagger import app as app_module
from flagger.app import APP_ID, ROCKSDB_OPTIONS, create_app
from flagstream.codec import Codec
from flagstream.metrics import consumer_metrics, service_metrics
from flagstream.settings import Settings
from flagstream.topics import FLAGGER_APP_ID, FLAGGER_TABLE, Topics


def build(tmp_path: Path, store: str) -> object:
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1", flagger_store=store, flagger_data_dir=tmp_path / "flagger"
    )
    metrics = service_metrics("flagger", CollectorRegistry())
    return create_app(settings, Codec(), metrics, health=consumer_metrics(metrics.registry))


def test_faust_declares_no_topic_and_uses_the_created_names(tmp_path: Path) -> None:
    app = build(tmp_path, "memory://")
    assert app.conf.topic_allow_declare is False  # type: ignore[attr-defined]
    assert APP_ID == FLAGGER_APP_ID == app.conf.id  # type: ignore[attr-defined]
    table = app.tables[FLAGGER_TABLE]  # type: ignore[attr-defined]
    assert table.changelog_topic.get_topic_name() == Topics().flagger_changelog
    assert app_module.TABLE == FLAGGER_TABLE


def test_rocksdb_is_the_default_store() -> None:
    assert Settings().flagger_store == "rocksdb://"


def test_a_rocksdb_table_gets_the_flaggers_options(tmp_path: Path) -> None:
    app = build(tmp_path, "rocksdb://")
    store = app.tables[FLAGGER_TABLE].data  # type: ignore[attr-defined]
    assert store.use_rocksdict
    options = store.rocksdb_options
    assert options.write_buffer_size == ROCKSDB_OPTIONS["write_buffer_size"]
    assert options.block_cache_size == ROCKSDB_OPTIONS["block_cache_size"]
    assert ROCKSDB_OPTIONS["driver"] == "rocksdict"  # Faust pops from a copy, not from ours
