"""Read access to the event database: the only code besides bot.db.seed that speaks SQL.

Actions ask `EventDB` questions in the project's vocabulary (keys from docs/data-keys.md,
calendar days) and get frozen dataclasses back. Every query is built with SQLAlchemy
expressions, so keys and dates from visitors' messages are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from bot.db.changes import read_version
from bot.db.engine import describe_url, make_engine
from bot.db.info import EventInfo, FactInfo, LogisticsInfo, NameEntry, ThemeDayInfo, VenueInfo
from bot.db.models import KEY_LEN, Alias, Event, Fact, Logistics, ThemeDay, Venue, Week
from bot.db.schema import schema_state
from bot.db.tz import china_date


class DatabaseNotReady(RuntimeError):
    """The event database is missing, empty, out of date or unreachable."""


# Dated events first, by day and time; undated ones last; ties in seed order.
_EVENT_ORDER = (
    Event.start_date.is_(None),
    Event.start_date,
    Event.start_time.is_(None),
    Event.start_time,
    Event.position,
)


def _is_key(value: Any) -> bool:
    """Keys are short strings; anything else cannot match and needs no query."""
    return isinstance(value, str) and 0 < len(value) <= KEY_LEN


def _as_day(day: date) -> date:
    """A calendar day; a datetime counts as the day it is in China."""
    return china_date(day) if isinstance(day, datetime) else day


class EventDB:
    """Questions about the week, answered from the event database.

    Construct with a SQLAlchemy URL, an Engine, or neither (then `DATABASE_URL` or the
    default SQLite file). Readiness is checked on first use, not here, so that an action
    server can start before `cyberweek db load` has run.
    """

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        if url is not None and engine is not None:
            raise ValueError("give a url or an engine, not both")
        self._owns_engine = engine is None
        self._engine = engine or make_engine(url)
        self._ready = False

    def dispose(self) -> None:
        """Close the connection pool (only when this object created the engine)."""
        if self._owns_engine:
            self._engine.dispose()

    # --- events ------------------------------------------------------------------------

    def event(self, key: str) -> EventInfo | None:
        if not _is_key(key):
            return None
        with self._read() as session:
            row = session.execute(select(Event).where(Event.key == key)).scalar_one_or_none()
            return _info(EventInfo, row) if row else None

    def all_events(self) -> tuple[EventInfo, ...]:
        """Every event, dated ones in date order first."""
        return self._events(select(Event))

    def events_on(self, day: date) -> tuple[EventInfo, ...]:
        """Events on `day`, in time order.

        Two kinds, told apart by `date_precision`: "exact" events are on that
        day; "window" events are held on some day of an announced span that includes it, the
        day itself not announced (the sub-forums, 9-11 Sept) — present them as "may be".
        """
        day = _as_day(day)
        query = select(Event).where(
            Event.date_precision.in_(("exact", "window")),
            Event.start_date <= day,
            Event.end_date >= day,
        )
        return self._events(query)

    def sub_forums(self) -> tuple[EventInfo, ...]:
        """The individual sub-forums (each with a topic), not their group record."""
        query = select(Event).where(Event.kind == "sub_forum", Event.topic.is_not(None))
        return self._events(query)

    def sub_forum_by_topic(self, topic: str) -> EventInfo | None:
        if not _is_key(topic):
            return None
        found = self._events(select(Event).where(Event.kind == "sub_forum", Event.topic == topic))
        return found[0] if found else None

    # --- venues and theme days ----------------------------------------------------------

    def venue(self, key: str) -> VenueInfo | None:
        if not _is_key(key):
            return None
        with self._read() as session:
            row = session.execute(select(Venue).where(Venue.key == key)).scalar_one_or_none()
            return _info(VenueInfo, row) if row else None

    def venue_of_event(self, key: str) -> VenueInfo | None:
        """The venue record of an event; None when the event has none (or does not exist)."""
        if not _is_key(key):
            return None
        query = select(Venue).join(Event, Event.venue_key == Venue.key).where(Event.key == key)
        with self._read() as session:
            row = session.execute(query).scalar_one_or_none()
            return _info(VenueInfo, row) if row else None

    def theme_day(self, key: str) -> ThemeDayInfo | None:
        if not _is_key(key):
            return None
        with self._read() as session:
            query = select(ThemeDay).where(ThemeDay.key == key)
            row = session.execute(query).scalar_one_or_none()
            return _info(ThemeDayInfo, row) if row else None

    def theme_day_on(self, day: date) -> ThemeDayInfo | None:
        """The theme day dated `day` — check `date_confirmed` before stating it as fact."""
        query = (
            select(ThemeDay)
            .where(ThemeDay.date == _as_day(day))
            .order_by(ThemeDay.date_confirmed.desc(), ThemeDay.position)
        )
        with self._read() as session:
            row = session.execute(query).scalars().first()
            return _info(ThemeDayInfo, row) if row else None

    def theme_days(self) -> tuple[ThemeDayInfo, ...]:
        """All theme days, dated ones in date order, then the undated ones."""
        query = select(ThemeDay).order_by(ThemeDay.date.is_(None), ThemeDay.date, ThemeDay.position)
        with self._read() as session:
            return tuple(_info(ThemeDayInfo, row) for row in session.execute(query).scalars())

    # --- facts, names, the week --------------------------------------------------------

    def fact(self, key: str) -> FactInfo | None:
        if not _is_key(key):
            return None
        with self._read() as session:
            row = session.execute(select(Fact).where(Fact.key == key)).scalar_one_or_none()
            return _info(FactInfo, row) if row else None

    def logistics(
        self, topic: str, *, event: str | None = None, venue: str | None = None
    ) -> LogisticsInfo | None:
        """The practical-information record of `topic` for exactly this scope: an event, a
        venue, or neither (the whole week). The caller walks from specific to general."""
        if not _is_key(topic) or (event is not None and venue is not None):
            return None
        if any(value is not None and not _is_key(value) for value in (event, venue)):
            return None
        query = select(Logistics).where(
            Logistics.topic == topic,
            Logistics.event_key.is_(None) if event is None else Logistics.event_key == event,
            Logistics.venue_key.is_(None) if venue is None else Logistics.venue_key == venue,
        )
        with self._read() as session:
            row = session.execute(query).scalars().first()
            return _info(LogisticsInfo, row) if row else None

    def facts_in(self, category: str) -> tuple[FactInfo, ...]:
        """Every fact of a category (e.g. "history": one per earlier edition), in key order."""
        if not _is_key(category):
            return ()
        query = select(Fact).where(Fact.category == category).order_by(Fact.key)
        with self._read() as session:
            return tuple(_info(FactInfo, row) for row in session.execute(query).scalars())

    def names(self) -> tuple[NameEntry, ...]:
        """Every name and alias (entity, key, text): the gazetteer for the NLU."""
        query = select(Alias).order_by(Alias.entity, Alias.key, Alias.id)
        with self._read() as session:
            return tuple(
                NameEntry(row.entity, row.key, row.text) for row in session.execute(query).scalars()
            )

    def data_version(self) -> int | None:
        """A number that changes with every seed load and staff edit (bot.db.changes), so a
        cache of anything read here can notice a change; None when it cannot be read (no
        load since the counter was introduced, database down). One primary-key read."""
        try:
            with self._engine.connect() as connection:
                return read_version(connection)
        except DBAPIError:
            return None

    def week_span(self) -> tuple[date, date]:
        """First and last day of the week proper (the national dates, 9-15 Sept)."""
        with self._read() as session:
            row = session.execute(select(Week.start_date, Week.end_date)).one()
            return row.start_date, row.end_date

    # --- plumbing ----------------------------------------------------------------------

    def _events(self, query: Any) -> tuple[EventInfo, ...]:
        with self._read() as session:
            rows = session.execute(query.order_by(*_EVENT_ORDER)).scalars()
            return tuple(_info(EventInfo, row) for row in rows)

    @contextmanager
    def _read(self) -> Iterator[Session]:
        """A read-only session; database errors that mean "not loaded" become DatabaseNotReady."""
        self._ensure_ready()
        try:
            with Session(self._engine, future=True) as session:
                yield session
        except (OperationalError, ProgrammingError) as error:
            self._ready = False
            problem = self._problem()
            if problem:
                raise self._not_ready(problem) from error
            raise

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        problem = self._problem()
        if problem:
            raise self._not_ready(problem)
        self._ready = True

    def _problem(self) -> str | None:
        """Why the database cannot answer (None when it can)."""
        try:
            with self._engine.connect() as connection:
                problem = schema_state(connection).problem()
                if problem:
                    return problem
                weeks = connection.execute(select(func.count()).select_from(Week)).scalar_one()
                if weeks == 0:
                    return "no seed data loaded"
        except DBAPIError as error:
            return f"cannot open it ({error.orig})"
        return None

    def _not_ready(self, problem: str) -> DatabaseNotReady:
        where = describe_url(self._engine.url)
        return DatabaseNotReady(
            f"The event database ({where}) is not ready: {problem}. "
            "Run `cyberweek db load` to create and load it."
        )


InfoT = TypeVar("InfoT")


def _info(info_class: type[InfoT], row: Any) -> InfoT:
    """Every dataclass field is the column of the same name, so a renamed column fails here."""
    return info_class(**{f.name: getattr(row, f.name) for f in fields(info_class)})
