"""The read model's one SQLAlchemy MetaData, shared by its table modules."""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()
