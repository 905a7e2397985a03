"""The read model's family tables (docs/families.md): which children share a household (its
pseudonymous key only), so a child's page can list the siblings the viewer may see; and which
NHS numbers' keys are linked to a child, so a linked child is one child, not two; and where a
child not yet in school is seen (zone and early-years setting)."""

from __future__ import annotations

from sqlalchemy import Column, Date, String, Table, Text

from .meta import metadata

# A child_key table: row-level security shows a row only when its child is in the viewer's
# scope (deploy/postgres/read_model.sql), so a sibling at another school is not even counted.
child_households = Table(
    "child_households",
    metadata,
    Column("household_key", String(64), primary_key=True, comment="Keyed hash, never the ref"),
    Column("child_key", String(64), primary_key=True, index=True, comment="Pseudonymous child id"),
    comment="A child named in a household by an enrolment or a family case (never removed)",
)

# A child_key table: row-level security as for child_households. Its child_key is the linked
# child's; nhs_key is the key the child's NHS-keyed records were projected under before.
child_links = Table(
    "child_links",
    metadata,
    Column("nhs_key", String(64), primary_key=True, comment="Keyed hash of the NHS number"),
    Column(
        "child_key", String(64), nullable=False, index=True, comment="The child it is linked to"
    ),
    comment="An NHS number's key linked to a child's key by an enrolment: the number's own "
    "rows are gone from children and child_flags, and no later snapshot of it is written",
)

# A child_key table: row-level security as for child_households. A child not yet in school has
# a children row with urn '' (no school): only county roles see it.
child_places = Table(
    "child_places",
    metadata,
    Column("child_key", String(64), primary_key=True, comment="Pseudonymous child id"),
    Column("source", String(64), nullable=False, comment="The stream that placed it"),
    Column("setting", Text, nullable=False, comment="Early-years setting or team, e.g. EY123456"),
    Column("zone", Text, nullable=False, index=True, comment="Family Partnership Zone"),
    Column("checked_on", Date, nullable=False, comment="Date of the record placing it"),
    comment="Where a child is seen outside school (the latest record of a stream that places "
    "children, e.g. early years): children not yet in school are listed by zone and setting",
)
