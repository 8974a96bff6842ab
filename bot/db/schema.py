"""Whether the tables in a database are the ones the models describe.

One answer for both sides: the seed loader rebuilds out-of-date tables, and `EventDB` refuses
to answer from them, so the two can never disagree about what "out of date" means.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Index, MetaData, inspect
from sqlalchemy.engine import Connection

from bot.db.models import metadata as event_metadata


@dataclass(frozen=True)
class SchemaState:
    """Model tables absent from the database, and present ones whose columns differ."""

    missing: tuple[str, ...]
    outdated: tuple[str, ...]

    def problem(self) -> str | None:
        """Why these tables cannot answer (None when they can), for DatabaseNotReady."""
        if self.missing:
            return f"tables missing: {', '.join(self.missing)}"
        if self.outdated:
            return f"table {self.outdated[0]} has an out-of-date schema"
        return None


def schema_state(connection: Connection, metadata: MetaData = event_metadata) -> SchemaState:
    """Column names only: an added, renamed or dropped column is what queries trip over, and
    `cyberweek db load` rebuilds such event tables (see `bot.db.seed.load.prepare_schema`);
    the desk's tables (`bot.db.desk`) are checked with their own metadata, never rebuilt."""
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    missing = tuple(sorted(name for name in metadata.tables if name not in existing))
    outdated = tuple(
        table.name
        for table in metadata.sorted_tables
        if table.name in existing
        and {column["name"] for column in inspector.get_columns(table.name)}
        != set(table.columns.keys())
    )
    return SchemaState(missing, outdated)


def missing_indexes(connection: Connection, metadata: MetaData = event_metadata) -> list[Index]:
    """The models' indexes absent from tables that exist. Not a reason to refuse to answer
    (queries stay right, only slower), and `create_all` adds no index to an existing table:
    `cyberweek db load` creates these (`bot.db.seed.load.prepare_schema`)."""
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    missing = []
    for table in metadata.sorted_tables:
        if table.name not in existing:
            continue
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        missing += [index for index in table.indexes if index.name not in present]
    return missing
