"""A validated seed -> the database, all rows replaced in ONE transaction.

One transaction, so that visitors see the old schedule or the new one, never half of each;
the same seed loaded twice gives the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.db.changes import bump_version, ensure_tables, utc_now
from bot.db.engine import make_engine, writer
from bot.db.info import NameEntry
from bot.db.models import (
    SEED_TABLES,
    Alias,
    Event,
    Fact,
    ForumTopic,
    Logistics,
    Organiser,
    ThemeDay,
    Venue,
    Week,
    metadata,
)
from bot.db.schema import missing_indexes, schema_state
from bot.db.seed.read import SECTIONS, Record
from bot.db.seed.validate import ALIASES, SeedData, SeedError, validate

SECTION_MODELS: dict[str, Any] = {
    "week": Week,
    "venues": Venue,
    "forum_topics": ForumTopic,
    "events": Event,
    "theme_days": ThemeDay,
    "organisers": Organiser,
    "facts": Fact,
    "logistics": Logistics,
}


@dataclass(frozen=True)
class LoadReport:
    """Rows per table after a load."""

    counts: dict[str, int]

    def __str__(self) -> str:
        return ", ".join(f"{table} {count}" for table, count in self.counts.items())


def load_seed(directory: Path, url: str | None = None) -> LoadReport:
    """Validate the whole seed, then replace every seed table's rows in one transaction.

    Raises SeedError (and touches no database) when any record is invalid. A failure during
    the load rolls the transaction back, leaving the previous data as it was.
    """
    data, problems = validate(Path(directory))
    if data is None:
        raise SeedError(problems)
    engine = make_engine(url)
    try:
        # writer(): the load reads the schema before it writes (BEGIN IMMEDIATE on SQLite)
        with Session(writer(engine), future=True) as session, session.begin():
            prepare_schema(session.connection())
            _replace_rows(session, data)
            _insert_aliases(session, data.names)
            counts = _count_rows(session)
            refresh_statistics(session.connection())
            # every instance notices the new data (bot.db.changes); the change log stays
            bump_version(session.connection(), utc_now(), loaded=True)
    finally:
        engine.dispose()
    return LoadReport(counts)


def prepare_schema(connection: Connection) -> None:
    """Create missing tables; rebuild them all if any is out of date.

    The tables hold nothing but seed data, so a rebuild loses nothing (no migrations); the
    change log (bot.db.changes) is under its own MetaData and is never dropped here.
    """
    if schema_state(connection).outdated:
        metadata.drop_all(connection)
    metadata.create_all(connection)
    for index in missing_indexes(connection):  # tables made before the index was added
        index.create(connection)
    ensure_tables(connection)  # the data version and change log: created, never rebuilt


def refresh_statistics(connection: Connection) -> None:
    """ANALYZE the event tables, so that the query planner knows that, say, nearly every event
    has no parent: without statistics SQLite takes any equality for a rare value and may walk
    the parent index instead of a date range (PostgreSQL's autovacuum would get there later)."""
    for table in (model.__tablename__ for model in SEED_TABLES):
        connection.exec_driver_sql(f"ANALYZE {table}")


def seed_rows(records: list[Record]) -> list[dict[str, Any]]:
    """Column values of each record, in seed order, with its `position` in that order."""
    rows = []
    for position, record in enumerate(records):
        row = {name: value for name, value in record.values.items() if name != ALIASES}
        if record.index is not None:  # list sections keep their order; `week` is one row
            row["position"] = position
        rows.append(row)
    return rows


def _replace_rows(session: Session, data: SeedData) -> None:
    for model in SEED_TABLES:  # children first
        session.execute(delete(model))
    for section in SECTIONS:  # parents first
        model = SECTION_MODELS[section]
        rows = seed_rows(data.records[section])
        # Parents first, flushed, so that the self-reference events.parent_key resolves.
        for group in (
            [row for row in rows if not row.get("parent_key")],
            [row for row in rows if row.get("parent_key")],
        ):
            session.add_all(model(**row) for row in group)
            session.flush()


def _insert_aliases(session: Session, names: list[NameEntry]) -> None:
    session.add_all(Alias(entity=n.entity, key=n.key, text=n.text) for n in names)
    session.flush()


def _count_rows(session: Session) -> dict[str, int]:
    models = [SECTION_MODELS[section] for section in SECTIONS] + [Alias]
    return {
        model.__tablename__: session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in models
    }
