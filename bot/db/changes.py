"""The event data's version counter and the log of staff edits.

Help-desk editors change facts in the staff console while the week runs (bot.db.edits); every
running instance must notice at once, and the repository must be able to take the changes back
(`cyberweek db export`). Two tables serve that:

- `event_data_state`, one row: `version` goes up by one in the same transaction as every edit
  and every seed load, so "did anything change?" costs one primary-key read;
- `event_changes`: who changed which field of which record, when, from what to what (JSON).

They live beside the event tables under a MetaData of their own, like the desk's
(bot.db.desk.models): `cyberweek db load` drops and rebuilds the event tables when their
columns change and replaces every event row, and must never take the change log with them.
They are created when first needed, never rebuilt: a changed column needs a migration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, declarative_base

from bot.db.models import KEY_LEN
from bot.db.types import UtcDateTime

ChangesBase = declarative_base()
changes_metadata = ChangesBase.metadata

STATE_ROW_ID: Final = 1
EDITOR_LEN: Final = 64  # a staff username (bot.db.desk.models.USERNAME_LEN)
FIELD_LEN: Final = 64


class DataState(ChangesBase):
    """The one row saying which version of the event data the database holds."""

    __tablename__ = "event_data_state"
    __table_args__ = (CheckConstraint(f"id = {STATE_ROW_ID}", name="ck_event_data_state_one"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    version: Mapped[int] = Column(Integer, nullable=False)
    changed_at: Mapped[dt.datetime] = Column(UtcDateTime(), nullable=False)
    # the version the last `cyberweek db load` produced: edits below it were replaced
    loaded_version: Mapped[int | None] = Column(Integer)
    # the version the last `cyberweek db export` wrote, and where (a resolved directory)
    exported_version: Mapped[int | None] = Column(Integer)
    exported_to: Mapped[str | None] = Column(Text)


class Change(ChangesBase):
    """One field of one record changed by one editor (field "aliases": one alias added, old
    value null, or removed, new value null)."""

    __tablename__ = "event_changes"
    __table_args__ = (
        Index("ix_event_changes_record", "kind", "key", "id"),
        Index("ix_event_changes_version", "version"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    version: Mapped[int] = Column(Integer, nullable=False)  # the data version it produced
    changed_at: Mapped[dt.datetime] = Column(UtcDateTime(), nullable=False)
    editor: Mapped[str] = Column(String(EDITOR_LEN), nullable=False)
    kind: Mapped[str] = Column(String(16), nullable=False)  # event | venue | theme_day | ...
    key: Mapped[str] = Column(String(KEY_LEN), nullable=False)
    field: Mapped[str] = Column(String(FIELD_LEN), nullable=False)  # as spelled in the YAML
    old_value: Mapped[str] = Column(Text, nullable=False)  # JSON
    new_value: Mapped[str] = Column(Text, nullable=False)  # JSON


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def ensure_tables(connection: Connection) -> None:
    """Create the state and change-log tables when missing (never drops anything)."""
    changes_metadata.create_all(connection)


# Built once: read on every turn (bot.db.kept_reads), where building the statement cost more
# than running it.
_VERSION_QUERY = select(DataState.version).where(DataState.id == STATE_ROW_ID)


def read_version(connection: Connection) -> int:
    """The data version (0 before the first load or edit). One primary-key read; raises the
    driver's error when the table does not exist yet."""
    return connection.execute(_VERSION_QUERY).scalar_one_or_none() or 0


@dataclass(frozen=True)
class StateInfo:
    version: int
    changed_at: dt.datetime
    loaded_version: int | None
    exported_version: int | None
    exported_to: str | None


def read_state(connection: Connection) -> StateInfo | None:
    """The state row (None before the first load or edit)."""
    columns = [getattr(DataState, f.name) for f in fields(StateInfo)]
    row = connection.execute(select(*columns).where(DataState.id == STATE_ROW_ID)).first()
    return StateInfo(*row) if row is not None else None


def bump_version(connection: Connection, now: dt.datetime, *, loaded: bool = False) -> int:
    """Add one to the data version inside the caller's transaction; returns the new version.

    `loaded`: a seed load made it, so every earlier edit has been replaced."""
    values: dict[str, Any] = {"version": DataState.version + 1, "changed_at": now}
    if loaded:
        values["loaded_version"] = DataState.version + 1
    updated = connection.execute(
        update(DataState).where(DataState.id == STATE_ROW_ID).values(**values)
    )
    if updated.rowcount == 0:
        connection.execute(
            insert(DataState).values(
                id=STATE_ROW_ID, version=1, changed_at=now, loaded_version=1 if loaded else None
            )
        )
    return read_version(connection)


def mark_exported(connection: Connection, version: int, directory: Path) -> None:
    """Remember that `version` was written to `directory` (for `cyberweek db load`'s check
    that no edit is lost)."""
    connection.execute(
        update(DataState)
        .where(DataState.id == STATE_ROW_ID)
        .values(exported_version=version, exported_to=str(directory.resolve()))
    )
