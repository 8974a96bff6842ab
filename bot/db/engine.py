"""Where the event database is and how to connect to it.

One configuration story: a SQLite file under var/ on a laptop, any SQLAlchemy URL (PostgreSQL
in production) through `DATABASE_URL`. Engines are "future" engines (SQLAlchemy 2.0 style).
"""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from bot import paths

DEFAULT_DB_FILE = paths.VAR_DIR / "cyberweek.db"
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_S = 30  # a reader waits this long while `cyberweek db load` commits


def database_url() -> str:
    """`DATABASE_URL` when set, else the SQLite file var/cyberweek.db (var/ is created)."""
    configured = os.environ.get("DATABASE_URL", "").strip()
    if configured:
        return configured
    DEFAULT_DB_FILE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DB_FILE}"


# Execution option for transactions that read and then write: on SQLite they take the write
# lock at BEGIN, because a read lock cannot be upgraded while another writer holds the lock
# (SQLite answers "database is locked" at once, without waiting out the busy timeout).
BEGIN_IMMEDIATE = "cyberweek_begin_immediate"


# Execution option for a read of one statement (`read_retrying_once`): on SQLite no BEGIN, the
# statement is its own transaction; SQLAlchemy's BEGIN cost a whole execute per read, ~2% of
# a turn's time in Rasa's lock at 20 visitors (#14).
SINGLE_STATEMENT = "cyberweek_single_statement"


def writer(engine: Engine) -> Engine:
    """`engine` for read-then-write transactions (BEGIN IMMEDIATE on SQLite; no-op elsewhere)."""
    return engine.execution_options(**{BEGIN_IMMEDIATE: True})


def describe_url(url: str | URL) -> str:
    """The URL with its password masked, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str | None = None) -> Engine:
    """A 2.0-style engine for `url` (default: `database_url()`).

    SQLite gets foreign keys enforced and real transactions (see `_make_sqlite_honest`), so
    that a seed load behaves there as it does on PostgreSQL.
    """
    parsed = make_url(url or database_url())
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        _ensure_sqlite_dir(parsed)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        if _is_sqlite_file(parsed):
            # A pool, not SQLAlchemy 1.4's NullPool for files: opening a connection per query
            # was half of each event query's time (0.6 of 1.2 ms). The action server queries
            # from worker threads, one connection per thread at a time.
            kwargs["poolclass"] = QueuePool
            kwargs["connect_args"]["check_same_thread"] = False
    else:
        kwargs["pool_pre_ping"] = True  # survive PostgreSQL restarts between requests
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _make_sqlite_honest(engine)
    return engine


# An autocommit engine's pool: its reads take well under a millisecond, from one or a few
# threads; past this wait the caller treats the read as failed.
AUTOCOMMIT_POOL_SIZE = 2
AUTOCOMMIT_WAIT_S = 1.0


def autocommit_engine(engine: Engine) -> Engine:
    """An engine for `engine`'s database whose reads are one statement each and need no
    transaction: a turn's data version (bot.db.kept_reads), a conversation's events, "any
    staff message waiting?". On PostgreSQL its connections are in autocommit from the start,
    so a read is one statement, where a pooled one is four (pre-ping, BEGIN, the SELECT,
    ROLLBACK; a per-read AUTOCOMMIT option costs two SETs instead). Without a pre-ping, a
    connection dropped by a database restart fails its read: `read_retrying_once` tries again
    on the fresh connection. On SQLite, `engine` itself (its own BEGIN, `_make_sqlite_honest`).
    """
    if engine.dialect.name == "sqlite":
        return engine
    return create_engine(
        engine.url,
        future=True,
        isolation_level="AUTOCOMMIT",
        pool_size=AUTOCOMMIT_POOL_SIZE,
        max_overflow=0,
        pool_timeout=AUTOCOMMIT_WAIT_S,
    )


def read_retrying_once(engine: Engine, read: Callable[[Connection], T]) -> T:
    """`read(connection)`, one statement, once more on a new connection if the first one had
    been dropped (SQLAlchemy then invalidates the pool's connections: the second try
    reconnects). On SQLite the statement runs without a BEGIN (`SINGLE_STATEMENT`)."""
    try:
        with engine.connect() as connection:
            return read(connection.execution_options(**{SINGLE_STATEMENT: True}))
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with engine.connect() as connection:
        return read(connection.execution_options(**{SINGLE_STATEMENT: True}))


def _is_sqlite_file(url: URL) -> bool:
    database = url.database
    return bool(database) and database != ":memory:" and "mode=memory" not in str(url)


def _ensure_sqlite_dir(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _make_sqlite_honest(engine: Engine) -> None:
    """Foreign keys on, and BEGIN emitted by SQLAlchemy: else pysqlite commits CREATE TABLE on
    its own and a failed first load leaves empty tables (SQLAlchemy's documented recipe)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(SINGLE_STATEMENT, False):
            return
        immediate = options.get(BEGIN_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def tracker_store_engine(url: URL) -> Engine:
    """An engine for Rasa's SQL tracker store at `url`, cheaper per turn than Rasa's own.

    Rasa's keeps SQLAlchemy 1.4's defaults: on SQLite a new connection per query (NullPool) and
    an fsync per commit. This one has Rasa's PostgreSQL pool settings (SQL_POOL_SIZE,
    SQL_MAX_OVERFLOW, POSTGRESQL_SCHEMA), and on SQLite a pool and write-ahead logging. No
    pre-ping on PostgreSQL, where it was a round trip per save: the store's reads go through
    `autocommit_engine` and `read_retrying_once`, and a save that finds its connection dropped
    by a restart is tried again (bot.desk.tracker_store).
    """
    from rasa.core.tracker_store import create_engine_kwargs  # Rasa only where it is needed

    kwargs = create_engine_kwargs(url)  # Rasa's: PostgreSQL pool size, overflow and schema
    if url.get_backend_name() != "sqlite":
        return create_engine(url, **kwargs)
    # The store is used from the event loop and from worker threads (asyncio.to_thread).
    engine = create_engine(
        url,
        poolclass=QueuePool,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
    )
    event.listen(engine, "connect", _write_ahead_logging)
    return engine


def _write_ahead_logging(dbapi_connection: Any, _record: Any) -> None:
    # WAL: the desk's readers never block the bot's writes; NORMAL: no fsync per commit (a
    # power cut may lose the last turns, a crashed process loses nothing).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()
