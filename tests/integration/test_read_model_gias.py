"""GIAS-style CSV import: parsed with reasons, published, projected into schools and zones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from flagstream.codec import Codec
from flagstream.metrics import service_metrics
from flagstream.topics import Topics, create_topics
from flagstream_tools.broker import EmbeddedBroker
from projector.consumer import Projector
from projector.gias import parse, publish
from readmodel.db import create_schema, make_engine
from readmodel.tables import pyramids, schools, zones
from tests.integration.test_projector import drain

CSV = """\ufeffURN,EstablishmentName,PhaseOfEducation (name),TypeOfEstablishment (name),Pyramid,Zone
113456,Hartcombe First School,Primary,Community school,Lyne,Northvale
113457,Lyne Upper School,Secondary,Academy converter,Lyne,Northvale
113458,Harbour Special School,Not applicable,Community special school,Coast,Coastway
11345,Short Urn School,Primary,Community school,Coast,Coastway
113459,College,16 plus,Further education,Coast,Coastway
113460,No Zone School,Primary,Community school,Coast,
"""


def test_gias_rows_are_accepted_or_rejected_with_a_reason_and_projected(
    broker: EmbeddedBroker, database_url: str
) -> None:
    accepted, rejected = parse(CSV.lstrip("\ufeff").splitlines(), datetime.now(UTC))
    assert [s.urn for s in accepted] == ["113456", "113457", "113458"]
    assert [s.phase for s in accepted] == ["PRIMARY", "SECONDARY", "SPECIAL"]
    assert [(r.line, r.reason) for r in rejected] == [
        (5, "invalid_urn"),
        (6, "invalid_phase"),
        (7, "missing_field"),
    ]
    topics = Topics(f"gias{uuid.uuid4().hex[:8]}")
    create_topics(broker.bootstrap, topics, partitions=1)
    codec = Codec()
    publish(broker.bootstrap, topics.schools, accepted, codec)
    publish(broker.bootstrap, topics.schools, accepted, codec)  # an import run twice
    engine = make_engine(database_url)
    create_schema(engine)
    projector = Projector(broker.bootstrap, topics, engine, codec, service_metrics("projector"))
    projector._assign()
    drain(projector, broker.bootstrap, topics, engine)
    with engine.connect() as conn:
        assert len(conn.execute(select(schools)).all()) == 3
        assert {tuple(r) for r in conn.execute(select(zones))} == {
            ("Northvale", 1, 2),
            ("Coastway", 1, 1),
        }
        assert {tuple(r) for r in conn.execute(select(pyramids))} == {
            ("Lyne", "Northvale", 2),
            ("Coast", "Coastway", 1),
        }
    engine.dispose()
