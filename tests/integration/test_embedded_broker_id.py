"""Clients tell the embedded broker from Kafka by its cluster id: the embedded one is started
with flagstream.topics.EMBEDDED_CLUSTER_ID (Tansu's own default is known too), which the
flagger reads to apply the embedded broker's workarounds only there."""

from __future__ import annotations

from flagstream.topics import EMBEDDED_CLUSTER_ID, cluster_id, on_embedded_broker
from flagstream_tools.broker import EmbeddedBroker


def test_the_embedded_broker_says_who_it_is() -> None:
    with EmbeddedBroker() as broker:
        assert cluster_id(broker.bootstrap) == EMBEDDED_CLUSTER_ID
        assert on_embedded_broker(broker.bootstrap)
