"""The `schema_version` table that the central database and every tenant database both keep."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, Table


def schema_version_table(metadata: MetaData) -> Table:
    """One row per applied migration version (core/migrations.py reads and writes it)."""
    return Table(
        "schema_version",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("version", Integer, nullable=False),
        Column("applied_at", DateTime, nullable=False),
    )
