"""Every row of every table, read with plain SQLAlchemy: what a test compares before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, select

from bot.db.models import metadata


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (ids left out: they are not part of the contract)."""
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            return {
                table.name: sorted(
                    (
                        tuple(row)
                        for row in connection.execute(
                            select(*[c for c in table.columns if c.name != "id"])
                        )
                    ),
                    key=repr,
                )
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()
