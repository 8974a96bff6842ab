"""The event database's names, read once for every NLU component that matches them.

The DatabaseGazetteer and the EntityResolver both match visitors' text against the names and
aliases the organisers keep in the event database, so new names work without retraining. One
`DatabaseNames` per database URL reads them for both: one query per refresh, one snapshot, one
warning when the database is not ready. Each component builds its own index from a snapshot
and rebuilds it only when the snapshot's `generation` changes.

A name added in the staff console (bot.db.edits) or by a seed load is understood at once, on
every instance: the database's data version (bot.db.changes) is read at most every
`version_check_seconds` and the names are reloaded when it moved, without waiting for the TTL.
Cost: at most one primary-key read of a one-row table per process every 2 s, none in between.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from bot.nlu.text import fold

logger = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 300
DEFAULT_RETRY_SECONDS = 30
DEFAULT_VERSION_CHECK_SECONDS = 2.0
# The config keys of every component that reads names through DatabaseNames.for_config.
NAMES_CONFIG_DEFAULTS: dict[str, Any] = {
    # SQLAlchemy URL; None means EventDB's default (DATABASE_URL or the SQLite file)
    "database_url": None,
    # reload names from the database when the loaded ones are older than this;
    # components sharing a database share one DatabaseNames: the shortest delays win
    "ttl_seconds": DEFAULT_TTL_SECONDS,
    # after a failed load (DB not ready), wait this long before trying again
    "retry_seconds": DEFAULT_RETRY_SECONDS,
}


class NameLike(Protocol):
    """What the NLU needs of a `bot.db.info.NameEntry`."""

    entity: str
    key: str
    text: str


NamesFunction = Callable[[], Iterable[NameLike]]
# The database's data version: changes with every edit and seed load; None when unknown.
VersionFunction = Callable[[], int | None]
Index = TypeVar("Index")


def fold_name(text: str) -> str:
    """The form names are compared in: folded (half-width, Simplified, lower-case) with
    whitespace runs collapsed, so 國際金融論壇, "IFF" and "opening  ceremony" match."""
    return " ".join(fold(str(text), lower=True).split())


@dataclass(frozen=True)
class Snapshot:
    """The names of one successful load; `generation` grows by one with every load."""

    names: tuple[NameLike, ...]
    generation: int


class _EventDBNames:
    """`EventDB(url).names()`, the database object kept between refreshes. bot.db is imported
    on first use, so the NLU package loads (and its tests run) without the DB layer."""

    def __init__(self, url: str | None) -> None:
        self._url = url
        self._db: Any = None

    def __call__(self) -> Iterable[NameLike]:
        return self._event_db().names()

    def version(self) -> int | None:
        return self._event_db().data_version()

    def _event_db(self) -> Any:
        if self._db is None:
            from bot.db.queries import EventDB

            self._db = EventDB(url=self._url)
        return self._db


class DatabaseNames:
    """Names from the event database, reloaded when older than `ttl_seconds` or, sooner, when
    `version` (checked at most every `version_check_seconds`) reports a change; after a failed
    load the previous snapshot stays in use and the next attempt waits `retry_seconds`.

    Use `DatabaseNames.shared(url)` in components so they share one instance per database;
    construct it directly (with a `names` function and a `monotonic` clock) in tests.
    """

    _shared: ClassVar[dict[str | None, DatabaseNames]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        names: NamesFunction,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        version: VersionFunction | None = None,
        version_check_seconds: float = DEFAULT_VERSION_CHECK_SECONDS,
    ) -> None:
        """`names` returns every (entity, key, text); it is called at most once per refresh.
        `version` (optional) returns the database's data version; without it, only the TTL
        refreshes the names."""
        self._names = names
        self.ttl_seconds = float(ttl_seconds)
        self.retry_seconds = float(retry_seconds)
        self._monotonic = monotonic
        self._version = version
        self.version_check_seconds = float(version_check_seconds)
        self._snapshot: Snapshot | None = None
        self._snapshot_version: int | None = None
        self._next_load = 0.0
        self._next_version_check = 0.0
        self._warned = False
        self._lock = threading.Lock()

    @classmethod
    def shared(
        cls,
        url: str | None = None,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
    ) -> DatabaseNames:
        """The process's instance for `url` (None: `DATABASE_URL`, else EventDB's SQLite file).

        Components configured with different delays for one database share the shortest."""
        url = url or os.environ.get("DATABASE_URL", "").strip() or None
        with cls._shared_lock:
            names = cls._shared.get(url)
            if names is None:
                provider = _EventDBNames(url)
                names = cls._shared[url] = cls(
                    provider, ttl_seconds, retry_seconds, version=provider.version
                )
            names.ttl_seconds = min(names.ttl_seconds, float(ttl_seconds))
            names.retry_seconds = min(names.retry_seconds, float(retry_seconds))
            return names

    @classmethod
    def for_config(
        cls,
        config: dict[str, Any],
        names: NamesFunction | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> DatabaseNames:
        """The shared instance for a component's `database_url`, `ttl_seconds` and
        `retry_seconds`; with a `names` function (tests), a private one reading that."""
        ttl, retry = float(config["ttl_seconds"]), float(config["retry_seconds"])
        if names is not None:
            return cls(names, ttl, retry, monotonic)
        return cls.shared(config["database_url"], ttl, retry)

    @classmethod
    def forget_shared(cls) -> None:
        """Drops the shared instances (tests: a fresh database connection for every test)."""
        with cls._shared_lock:
            cls._shared.clear()

    def snapshot(self) -> Snapshot | None:
        """The current names, (re)loaded when missing, older than the TTL or out of date by the
        data version; None until the first load succeeds. Never raises: a failed load is
        logged (once per outage)."""
        now = self._monotonic()
        if now < self._next_load and not self._version_check_due(now):
            return self._snapshot
        with self._lock:
            now = self._monotonic()
            if now >= self._next_load:
                return self._load(now, self._read_version())
            if self._version_check_due(now):
                self._next_version_check = now + self.version_check_seconds
                current = self._read_version()
                if current is not None and current != self._snapshot_version:
                    return self._load(now, current)
            return self._snapshot

    def _version_check_due(self, now: float) -> bool:
        return (
            self._version is not None
            and self._snapshot is not None
            and now >= self._next_version_check
        )

    def _read_version(self) -> int | None:
        if self._version is None:
            return None
        try:
            return self._version()
        except Exception as error:  # no version table yet, DB down: the TTL still applies
            logger.debug("Could not read the event data version: %s", error)
            return None

    def _load(self, now: float, version: int | None) -> Snapshot | None:
        """`version` was read before the names, so a change in between reloads them again."""
        try:
            names = tuple(self._names())
        except Exception as error:  # DB not ready: keep what we have
            self._next_load = now + self.retry_seconds
            self._next_version_check = now + self.retry_seconds
            if not self._warned:
                self._warned = True
                logger.warning(
                    "Could not load names from the event database (%s: %s); the NLU "
                    "recognises no new database names until it is ready.",
                    type(error).__name__,
                    error,
                )
            return self._snapshot
        generation = self._snapshot.generation + 1 if self._snapshot else 1
        self._snapshot = Snapshot(names, generation)
        self._snapshot_version = version
        self._next_load = now + self.ttl_seconds
        self._next_version_check = now + self.version_check_seconds
        logger.debug("Loaded %d names from the event database", len(names))
        if self._warned:  # recovered: a later outage deserves its own warning
            self._warned = False
            logger.info("Loaded names from the event database again")
        return self._snapshot


class IndexCache(Generic[Index]):
    """A component's index of the names, rebuilt only when the snapshot changed."""

    def __init__(
        self, names: DatabaseNames, build: Callable[[tuple[NameLike, ...]], Index]
    ) -> None:
        """`build` turns a snapshot's names into the component's index."""
        self.names = names
        self._build = build
        self._built: tuple[int, Index] | None = None

    def get(self) -> Index | None:
        """The index of the current snapshot, or None while no names were ever loaded."""
        snapshot = self.names.snapshot()
        if snapshot is None:
            return None
        built = self._built
        if built is None or built[0] != snapshot.generation:
            built = self._built = (snapshot.generation, self._build(snapshot.names))
        return built[1]
