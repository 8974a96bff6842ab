"""Read access to the event database: the only code besides bot.db.seed that speaks SQL.

Actions ask `EventDB` questions in the project's vocabulary (keys from docs/data-keys.md,
calendar days) and get frozen dataclasses back. Every query is built with SQLAlchemy
expressions, so keys and dates from visitors' messages are always bound parameters.

What an action asks during a visitor's turn reads one bounded range of an index
(bot.db.models), never the whole events table: a day reads the events started in the
MAX_EVENT_DAYS before it, a listing stops at its `limit`. `all_events()` is for tools, not
turns (tests/bot/db/test_query_plans.py checks the plans on a generated 100,000-event table's
little sibling; `cyberweek bench --event-queries` measures them).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Date, bindparam, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from bot.db.changes import read_version
from bot.db.engine import autocommit_engine, describe_url, make_engine, read_retrying_once
from bot.db.info import EventInfo, FactInfo, LogisticsInfo, NameEntry, ThemeDayInfo, VenueInfo
from bot.db.kept_reads import KeptReads
from bot.db.models import (
    KEY_LEN,
    MAX_EVENT_DAYS,
    Alias,
    Event,
    Fact,
    Logistics,
    ThemeDay,
    Venue,
    Week,
)
from bot.db.schema import schema_state
from bot.db.tz import china_date


class DatabaseNotReady(RuntimeError):
    """The event database is missing, empty, out of date or unreachable."""


@dataclass
class _Readiness:
    """Whether the schema and seed were found in place (checked again after a read fails)."""

    ready: bool = False


# Dated events first, by day and time; undated ones last; ties in seed order.
_EVENT_ORDER = (
    Event.start_date.is_(None),
    Event.start_date,
    Event.start_time.is_(None),
    Event.start_time,
    Event.position,
)
# The same order within the dated events alone (or the undated alone): one that an index on
# start_date (or the undated ones' on position) serves, so that a LIMIT stops the read early.
# An undated event has no time either (the seed's validation), so seed order is its order.
_DATED_ORDER = _EVENT_ORDER[1:]
_UNDATED_ORDER = (Event.position,)
# Events are read as plain rows of EventInfo's fields, in its order (no ORM objects to build
# and throw away): each row becomes a frozen EventInfo at once. A column renamed away from
# its field fails here, at import.
_EVENT_COLUMNS = tuple(Event.__table__.c[field.name] for field in fields(EventInfo))
# At most this many events in a listing that has no limit of its own: a reply names a few,
# not a table's worth (the seed's listings are far shorter).
LISTING_LIMIT = 30
_TOP_LEVEL = Event.parent_key.is_(None)  # not a member of a group (each sub-forum)


def _is_key(value: Any) -> bool:
    """Keys are short strings; anything else cannot match and needs no query."""
    return isinstance(value, str) and 0 < len(value) <= KEY_LEN


def _as_day(day: date) -> date:
    """A calendar day; a datetime counts as the day it is in China."""
    return china_date(day) if isinstance(day, datetime) else day


P = ParamSpec("P")
R = TypeVar("R")


def _kept(query: Callable[P, R]) -> Callable[P, R]:
    """A question whose answer a turn may take from `KeptReads` (see `EventDB.for_turn`)."""

    @functools.wraps(query)
    def kept_or_read(*args: P.args, **kwargs: P.kwargs) -> R:
        db, *rest = args
        kept = db._kept_for_turn()  # type: ignore[attr-defined]
        question = (query.__name__, tuple(rest), tuple(sorted(kwargs.items())))
        try:
            hash(question)
        except TypeError:  # an unhashable argument: asked directly
            kept = None
        if kept is None:
            return query(*args, **kwargs)
        return kept.get(question, lambda: query(*args, **kwargs))

    kept_or_read.kept = True  # type: ignore[attr-defined]
    return kept_or_read


class EventDB:
    """Questions about the week, answered from the event database.

    Construct with a SQLAlchemy URL, an Engine, or neither (then `DATABASE_URL` or the
    default SQLite file). Readiness is checked on first use, not here, so that an action
    server can start before `cyberweek db load` has run.
    """

    def __init__(
        self, url: str | None = None, *, engine: Engine | None = None, keep_answers: bool = False
    ) -> None:
        """`keep_answers`: the views `for_turn()` returns share answers kept between turns
        (bot.db.kept_reads); this object itself always reads the database."""
        if url is not None and engine is not None:
            raise ValueError("give a url or an engine, not both")
        self._owns_engine = engine is None
        self._engine = engine or make_engine(url)
        self._readiness = _Readiness()  # shared with the views for_turn() returns
        self._versions = autocommit_engine(self._engine)  # connects on first use only
        self._kept = KeptReads(self.data_version) if keep_answers else None
        self._turn_confirmed: bool | None = False  # None: a turn's, not confirmed yet

    def for_turn(self) -> EventDB:
        """This database for one visitor's turn: with kept answers, the data version is read
        once, at its first question, and the turn's answers are as of then."""
        turn = copy.copy(self)
        turn._turn_confirmed = None
        return turn

    def _kept_for_turn(self) -> KeptReads | None:
        if self._kept is None:
            return None
        if self._turn_confirmed is None:
            self._turn_confirmed = self._kept.confirm()
        return self._kept if self._turn_confirmed else None

    def dispose(self) -> None:
        """Close the connection pool (only when this object created the engine)."""
        if self._versions is not self._engine:
            self._versions.dispose()
        if self._owns_engine:
            self._engine.dispose()

    # --- events ------------------------------------------------------------------------

    @_kept
    def event(self, key: str) -> EventInfo | None:
        if not _is_key(key):
            return None
        found = self._rows(select(*_EVENT_COLUMNS).where(Event.key == key))
        return found[0] if found else None

    def all_events(self) -> tuple[EventInfo, ...]:
        """Every event, dated ones in date order first: for tools and tests, not for a
        visitor's turn (it reads the whole table)."""
        return self._events(select(*_EVENT_COLUMNS))

    @_kept
    def events_on(self, day: date) -> tuple[EventInfo, ...]:
        """Events on `day`, in time order.

        Two kinds, told apart by `date_precision`: "exact" events are on that
        day; "window" events are held on some day of an announced span that includes it, the
        day itself not announced (the sub-forums, 9-11 Sept) — present them as "may be".
        """
        day = _as_day(day)
        return self._rows(_EVENTS_OVERLAPPING, _span(day, day))

    @_kept
    def any_event_on(self, day: date) -> bool:
        """Whether `events_on(day)` would list anything (reads at most one row)."""
        day = _as_day(day)
        with self._read() as session:
            return session.execute(_ANY_OVERLAPPING, _span(day, day)).first() is not None

    @_kept
    def first_start_after(self, day: date) -> date | None:
        """The first day after `day` on which an event starts (the minimum of an index)."""
        query = select(func.min(Event.start_date)).where(Event.start_date > _as_day(day))
        with self._read() as session:
            return session.execute(query).scalar_one()

    @_kept
    def top_level_events_between(
        self, first: date, last: date, *, limit: int = LISTING_LIMIT
    ) -> tuple[EventInfo, ...]:
        """Events held on at least one day from `first` to `last`, groups as one (no member of
        a group), by start date then key, at most `limit`."""
        span = _span(_as_day(first), _as_day(last))
        return self._rows(_TOP_LEVEL_OVERLAPPING, {**span, "limit": limit})

    @_kept
    def undated_top_level_events(self, *, limit: int = LISTING_LIMIT) -> tuple[EventInfo, ...]:
        """Events with no date announced, groups as one, in seed order, at most `limit`."""
        query = (
            select(*_EVENT_COLUMNS)
            .where(Event.start_date.is_(None), _TOP_LEVEL)
            .order_by(*_UNDATED_ORDER)
            .limit(limit)
        )
        return self._rows(query)

    @_kept
    def top_level_events(
        self, *, kind: str | None = None, venue: str | None = None, limit: int = LISTING_LIMIT
    ) -> tuple[EventInfo, ...]:
        """The first `limit` events (dated ones in date order first), groups as one, of a
        kind and/or at a venue when given."""
        conditions = [_TOP_LEVEL]
        for column, value in ((Event.kind, kind), (Event.venue_key, venue)):
            if value is not None:
                if not _is_key(value):
                    return ()
                conditions.append(column == value)
        return self._first_events(conditions, limit)

    @_kept
    def sub_forums(self, *, limit: int = LISTING_LIMIT) -> tuple[EventInfo, ...]:
        """The individual sub-forums (each with a topic), not their group record."""
        return self._first_events([Event.kind == "sub_forum", Event.topic.is_not(None)], limit)

    @_kept
    def sub_forum_by_topic(self, topic: str) -> EventInfo | None:
        if not _is_key(topic):
            return None
        found = self._first_events([Event.kind == "sub_forum", Event.topic == topic], 1)
        return found[0] if found else None

    # --- venues and theme days ----------------------------------------------------------

    @_kept
    def venue(self, key: str) -> VenueInfo | None:
        if not _is_key(key):
            return None
        with self._read() as session:
            row = session.execute(select(Venue).where(Venue.key == key)).scalar_one_or_none()
            return _info(VenueInfo, row) if row else None

    @_kept
    def venue_of_event(self, key: str) -> VenueInfo | None:
        """The venue record of an event; None when the event has none (or does not exist)."""
        if not _is_key(key):
            return None
        query = select(Venue).join(Event, Event.venue_key == Venue.key).where(Event.key == key)
        with self._read() as session:
            row = session.execute(query).scalar_one_or_none()
            return _info(VenueInfo, row) if row else None

    @_kept
    def venues_in_event_order(self) -> tuple[str, ...]:
        """The keys of the venues that events are held at, in the order of each venue's first
        event (as in `all_events()`). One query over the (small) venues table, each venue's
        first dated event found in its index; the venues with undated events only (none in
        the seed) by a second one."""
        with self._read() as session:
            rows = session.execute(_VENUES_FIRST_EVENTS).all()
            without_dates = [key for key, day, *_ in rows if day is None]
            undated = session.execute(_first_undated(without_dates)).all() if without_dates else []
        dated = sorted(
            ((day, clock is None, clock or time.min, position), key)
            for key, day, clock, position in rows
            if day is not None
        )
        return tuple(key for _, key in dated) + tuple(
            key for key, _ in sorted(undated, key=_second)
        )

    @_kept
    def theme_day(self, key: str) -> ThemeDayInfo | None:
        if not _is_key(key):
            return None
        with self._read() as session:
            query = select(ThemeDay).where(ThemeDay.key == key)
            row = session.execute(query).scalar_one_or_none()
            return _info(ThemeDayInfo, row) if row else None

    @_kept
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

    @_kept
    def theme_days(self) -> tuple[ThemeDayInfo, ...]:
        """All theme days, dated ones in date order, then the undated ones."""
        query = select(ThemeDay).order_by(ThemeDay.date.is_(None), ThemeDay.date, ThemeDay.position)
        with self._read() as session:
            return tuple(_info(ThemeDayInfo, row) for row in session.execute(query).scalars())

    # --- facts, names, the week --------------------------------------------------------

    @_kept
    def fact(self, key: str) -> FactInfo | None:
        if not _is_key(key):
            return None
        with self._read() as session:
            row = session.execute(select(Fact).where(Fact.key == key)).scalar_one_or_none()
            return _info(FactInfo, row) if row else None

    @_kept
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

    @_kept
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
            return read_retrying_once(self._versions, read_version)
        except SQLAlchemyError:  # the driver's errors, and a pool with no connection free
            return None

    @_kept
    def week_span(self) -> tuple[date, date]:
        """First and last day of the week proper (the national dates, 9-15 Sept)."""
        with self._read() as session:
            row = session.execute(select(Week.start_date, Week.end_date)).one()
            return row.start_date, row.end_date

    # --- plumbing ----------------------------------------------------------------------

    def _events(self, query: Any) -> tuple[EventInfo, ...]:
        return self._rows(query.order_by(*_EVENT_ORDER))

    def _first_events(self, conditions: list[Any], limit: int) -> tuple[EventInfo, ...]:
        """The first `limit` events matching `conditions` in `_EVENT_ORDER`: the dated ones,
        in an index's start-date order, then the undated ones while there is room. (One
        ORDER BY "start_date IS NULL, ..." would have every matching row read and sorted.)"""
        if limit <= 0:
            return ()
        dated = select(*_EVENT_COLUMNS).where(*conditions, Event.start_date.is_not(None))
        found = self._rows(dated.order_by(*_DATED_ORDER).limit(limit))
        if len(found) == limit:
            return found
        undated = select(*_EVENT_COLUMNS).where(*conditions, Event.start_date.is_(None))
        return found + self._rows(undated.order_by(*_UNDATED_ORDER).limit(limit - len(found)))

    def _rows(self, query: Any, parameters: dict[str, Any] | None = None) -> tuple[EventInfo, ...]:
        """EventInfos from a select of `_EVENT_COLUMNS`."""
        with self._read() as session:
            return tuple(EventInfo(*row) for row in session.execute(query, parameters or {}))

    @contextmanager
    def _read(self) -> Iterator[Session]:
        """A read-only session; database errors that mean "not loaded" become DatabaseNotReady."""
        self._ensure_ready()
        try:
            with Session(self._engine, future=True) as session:
                yield session
        except (OperationalError, ProgrammingError) as error:
            self._readiness.ready = False
            problem = self._problem()
            if problem:
                raise self._not_ready(problem) from error
            raise

    def _ensure_ready(self) -> None:
        if self._readiness.ready:
            return
        problem = self._problem()
        if problem:
            raise self._not_ready(problem)
        self._readiness.ready = True

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


def _venues_first_events() -> Any:
    """Each venue's key and the start date, time and position of its first dated event (NULLs
    for a venue without one): the event's id found by one correlated seek per venue, its row
    joined by primary key."""
    first = aliased(Event)
    first_id = (
        select(first.id)
        .where(first.venue_key == Venue.key, first.start_date.is_not(None))
        .order_by(first.start_date, first.start_time.is_(None), first.start_time, first.position)
        .limit(1)
        .correlate(Venue)
        .scalar_subquery()
    )
    return select(Venue.key, Event.start_date, Event.start_time, Event.position).outerjoin(
        Event, Event.id == first_id
    )


# Built once: an aliased statement built per call is a new statement to compile (6 ms).
_VENUES_FIRST_EVENTS = _venues_first_events()


def _first_undated(venues: list[str]) -> Any:
    """(venue, position of its first undated event) for those of `venues` that have one."""
    return (
        select(Event.venue_key, func.min(Event.position))
        .where(Event.venue_key.in_(venues), Event.start_date.is_(None))
        .group_by(Event.venue_key)
    )


def _second(pair: tuple[Any, Any]) -> Any:
    return pair[1]


def _span(first: date, last: date) -> dict[str, date]:
    """The parameters of `_OVERLAPPING`: held on at least one day from `first` to `last`."""
    return {"earliest": _days_before(first, MAX_EVENT_DAYS), "first": first, "last": last}


# Built once, with parameters (`_span`): a statement built per call costs more to build and
# look up in the compiled cache (0.7 ms) than the index range costs to read.
_OVERLAPPING = (
    # The start-date range is bounded below by MAX_EVENT_DAYS (bot.db.models), so only that
    # range of the index is read. No test of date_precision: a start date means "exact" or
    # "window" (ck_events_dates), and the rows are chosen from the index alone.
    Event.start_date >= bindparam("earliest", type_=Date),
    Event.start_date <= bindparam("last", type_=Date),
    Event.end_date >= bindparam("first", type_=Date),
)
_EVENTS_OVERLAPPING = select(*_EVENT_COLUMNS).where(*_OVERLAPPING).order_by(*_EVENT_ORDER)
_ANY_OVERLAPPING = select(Event.id).where(*_OVERLAPPING).limit(1)
_TOP_LEVEL_OVERLAPPING = (
    select(*_EVENT_COLUMNS)
    .where(*_OVERLAPPING, _TOP_LEVEL)
    .order_by(Event.start_date, Event.key)
    .limit(bindparam("limit"))
)


def _days_before(day: date, days: int) -> date:
    try:
        return day - timedelta(days=days)
    except OverflowError:  # a day in the first year of the calendar
        return date.min


InfoT = TypeVar("InfoT")


def _info(info_class: type[InfoT], row: Any) -> InfoT:
    """Every dataclass field is the column of the same name, so a renamed column fails here."""
    return info_class(**{f.name: getattr(row, f.name) for f in fields(info_class)})
