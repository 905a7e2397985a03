"""docs/read-model.md describes every table and column and shows the tested SQL verbatim."""

from __future__ import annotations

import re
from pathlib import Path

from readmodel.queries import SCREENS
from readmodel.tables import VIEWS, metadata

DOC = (Path(__file__).parents[2] / "docs" / "read-model.md").read_text()


def test_every_table_and_column_is_described() -> None:
    for table in metadata.sorted_tables:
        section = re.search(rf"### `{table.name}`\n(.*?)(?=\n### |\Z)", DOC, re.S)
        assert section, f"docs/read-model.md has no section for {table.name}"
        for column in table.columns:
            row = re.search(rf"^\| `{column.name}`.*\| (.+) \|$", section.group(1), re.M)
            assert row, f"{table.name}.{column.name} is not described"
    for view in VIEWS:
        assert f"`{view}`" in DOC


def test_every_screen_query_is_shown_as_tested() -> None:
    for name, sql in SCREENS.items():
        assert f"```sql\n{sql.strip()}\n```" in DOC, f"{name}: docs differ from queries.py"
