"""The event database's tables (SQLAlchemy 1.4, written so that 2.0 accepts them unchanged).

Every row comes from the YAML seed in data/event/ and carries its `source` ("seed" = the
Guangzhou Daily article, or public URLs, space-separated) and, where a detail may be
unannounced, `confirmed` plus a bilingual note saying what is not confirmed. The assistant must
never state an unconfirmed value as fact.

Dates and times are naive China Standard Time (UTC+08:00); see bot.db.tz for tz-aware helpers.
Rows are replaced wholesale by each seed load, so integer ids are not stable: other code refers
to rows by `key` only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, declarative_base

Base = declarative_base()
metadata = Base.metadata

EVENT_KINDS: Final = (
    "ceremony",
    "press_conference",
    "forum",
    "sub_forum",
    "seminar",
    "expo",
    "theme_day",
    "recruitment",
    "publicity",
    "competition",
)
# exact: on every day from start_date to end_date; window: on some day(s) in that span, which
# ones not announced (e.g. each sub-forum, 9-11 Sept); unknown: no date announced.
DATE_PRECISIONS: Final = ("exact", "window", "unknown")
PARTS_OF_DAY: Final = ("morning", "afternoon", "evening")
ORGANISER_ROLES: Final = ("lead", "member")
ALIAS_ENTITIES: Final = ("event", "venue", "theme_day", "forum_topic")
FACT_CATEGORIES: Final = (
    "week",
    "forum",
    "expo",
    "recruitment",
    "publicity",
    "guangzhou",
    "history",
)
# Practical questions at the venues (issue #13): one `logistics` record per (topic, scope).
LOGISTICS_TOPICS: Final = (
    "admission",
    "opening_hours",
    "transport",
    "parking",
    "registration",
    "rooms",
    "accessibility",
    "wifi",
    "luggage",
    "lost_property",
)

KEY_LEN: Final = 64
# The longest an event may last (end_date - start_date, in days; the seed's validation refuses
# more): "what is on day X" then reads only the events that started in the MAX_EVENT_DAYS
# before X, a bounded range of the start-date index, however many years the table holds.
# A season: the week's events last days (the expo 6), and the range read grows with it.
MAX_EVENT_DAYS: Final = 92
NAME_LEN: Final = 255

# Columns no seed record spells: `id` is the database's, `position` is a record's place in its
# seed list. Every other column of a seed table is a seed field of the same name and a field of
# the table's info class, if it has one (tests/bot/db/test_schema_agreement.py checks this).
DERIVED_COLUMNS: Final = frozenset({"id", "position"})


def _in(column: str, values: tuple[str, ...]) -> str:
    """A CHECK expression so that a hand-edited database cannot hold a value the code rejects."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


_DATED = "start_date IS NOT NULL"


def _where(condition: str) -> dict[str, Any]:
    """A partial index's condition, on the two databases that have them."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


class Week(Base):
    """The one edition this database describes: its name and national dates (9-15 Sept)."""

    __tablename__ = "week"

    id: Mapped[int] = Column(Integer, primary_key=True)
    key: Mapped[str] = Column(String(KEY_LEN), nullable=False, unique=True)
    name_zh: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    name_en: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    start_date: Mapped[dt.date] = Column(Date, nullable=False)
    end_date: Mapped[dt.date] = Column(Date, nullable=False)
    source: Mapped[str] = Column(Text, nullable=False)

    __table_args__ = (CheckConstraint("end_date >= start_date", name="ck_week_span"),)


class Venue(Base):
    __tablename__ = "venues"

    id: Mapped[int] = Column(Integer, primary_key=True)
    key: Mapped[str] = Column(String(KEY_LEN), nullable=False, unique=True)
    position: Mapped[int] = Column(Integer, nullable=False)
    name_zh: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    name_en: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    city_zh: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    city_en: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    district_zh: Mapped[str | None] = Column(String(NAME_LEN))
    district_en: Mapped[str | None] = Column(String(NAME_LEN))
    # None = not announced; the assistant then says so instead of guessing.
    address_zh: Mapped[str | None] = Column(Text)
    address_en: Mapped[str | None] = Column(Text)
    transport_zh: Mapped[str | None] = Column(Text)
    transport_en: Mapped[str | None] = Column(Text)
    source: Mapped[str] = Column(Text, nullable=False)
    confirmed: Mapped[bool] = Column(Boolean, nullable=False)
    note_zh: Mapped[str | None] = Column(Text)
    note_en: Mapped[str | None] = Column(Text)


class ForumTopic(Base):
    """The sub-forums' topics: the `forum_topic` entity values (governance, egov, ...)."""

    __tablename__ = "forum_topics"

    id: Mapped[int] = Column(Integer, primary_key=True)
    key: Mapped[str] = Column(String(KEY_LEN), nullable=False, unique=True)
    position: Mapped[int] = Column(Integer, nullable=False)
    name_zh: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    name_en: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    source: Mapped[str] = Column(Text, nullable=False)
    confirmed: Mapped[bool] = Column(Boolean, nullable=False)


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = Column(Integer, primary_key=True)
    key: Mapped[str] = Column(String(KEY_LEN), nullable=False, unique=True)
    position: Mapped[int] = Column(Integer, nullable=False)
    kind: Mapped[str] = Column(String(32), nullable=False)
    # A group this event belongs to (each subforum_* -> sub_forums), so that a day's
    # listing can fold the five sub-forums under one line.
    parent_key: Mapped[str | None] = Column(String(KEY_LEN), ForeignKey("events.key"))
    title_zh: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    title_en: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    description_zh: Mapped[str | None] = Column(Text)
    description_en: Mapped[str | None] = Column(Text)
    date_precision: Mapped[str] = Column(String(16), nullable=False)
    start_date: Mapped[dt.date | None] = Column(Date)
    end_date: Mapped[dt.date | None] = Column(Date)
    start_time: Mapped[dt.time | None] = Column(Time)
    end_time: Mapped[dt.time | None] = Column(Time)
    part_of_day: Mapped[str | None] = Column(String(16))
    venue_key: Mapped[str | None] = Column(String(KEY_LEN), ForeignKey("venues.key"))
    # Where, in words, when there is no venue record or the place is part of one
    # ("Guangzhou"; "the expo's talent recruitment area").
    location_zh: Mapped[str | None] = Column(Text)
    location_en: Mapped[str | None] = Column(Text)
    topic: Mapped[str | None] = Column(String(KEY_LEN), ForeignKey("forum_topics.key"))
    source: Mapped[str] = Column(Text, nullable=False)
    confirmed: Mapped[bool] = Column(Boolean, nullable=False)
    note_zh: Mapped[str | None] = Column(Text)
    note_en: Mapped[str | None] = Column(Text)

    __table_args__ = (
        CheckConstraint(_in("kind", EVENT_KINDS), name="ck_events_kind"),
        CheckConstraint(_in("date_precision", DATE_PRECISIONS), name="ck_events_precision"),
        CheckConstraint(
            "part_of_day IS NULL OR " + _in("part_of_day", PARTS_OF_DAY), name="ck_events_pod"
        ),
        CheckConstraint(
            "(date_precision = 'unknown' AND start_date IS NULL AND end_date IS NULL)"
            " OR (date_precision <> 'unknown' AND start_date IS NOT NULL"
            " AND end_date IS NOT NULL AND end_date >= start_date)",
            name="ck_events_dates",
        ),
        # The per-turn queries (bot.db.queries) each read one bounded range of one of these:
        # a day or span, the undated ones in seed order, by kind, at a venue, by topic.
        # Dated events only in all but one, undated ones in that one, by seed order: so that
        # "undated, in seed order" is one ordered index read on both databases. (With the
        # NULLs in the other indexes SQLite took their NULL range for a short one, its
        # statistics counting NULLs as distinct values, and sorted it; PostgreSQL does not
        # take an IS NULL range as ordered by the next column.)
        Index("ix_events_dates", "start_date", "end_date", **_where(_DATED)),
        Index("ix_events_undated", "position", **_where("start_date IS NULL")),
        Index("ix_events_kind", "kind", "start_date", **_where(_DATED)),
        Index("ix_events_venue", "venue_key", "start_date", "position", **_where(_DATED)),
        Index("ix_events_topic", "topic", "start_date", **_where(_DATED)),
        # The members of groups only, for the self-reference's checks (else a reload scans
        # the table once per deleted row); partial, or SQLite would take "parent_key IS NULL"
        # (nearly every row) for a short range of it and walk it instead of a date range.
        Index("ix_events_parent", "parent_key", **_where("parent_key IS NOT NULL")),
    )


class ThemeDay(Base):
    __tablename__ = "theme_days"

    id: Mapped[int] = Column(Integer, primary_key=True)
    key: Mapped[str] = Column(String(KEY_LEN), nullable=False, unique=True)
    position: Mapped[int] = Column(Integer, nullable=False)
    name_zh: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    name_en: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    # A date with date_confirmed = False is an inference (e.g. from earlier years' order):
    # kept so the assistant can say "probably ..., not yet announced", never as fact.
    date: Mapped[dt.date | None] = Column(Date)
    date_confirmed: Mapped[bool] = Column(Boolean, nullable=False)
    source: Mapped[str] = Column(Text, nullable=False)
    note_zh: Mapped[str | None] = Column(Text)
    note_en: Mapped[str | None] = Column(Text)

    __table_args__ = (
        CheckConstraint("date IS NOT NULL OR NOT date_confirmed", name="ck_theme_days_date"),
    )


class Organiser(Base):
    __tablename__ = "organisers"

    id: Mapped[int] = Column(Integer, primary_key=True)
    key: Mapped[str] = Column(String(KEY_LEN), nullable=False, unique=True)
    position: Mapped[int] = Column(Integer, nullable=False)
    name_zh: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    name_en: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    role: Mapped[str] = Column(String(16), nullable=False)
    source: Mapped[str] = Column(Text, nullable=False)
    confirmed: Mapped[bool] = Column(Boolean, nullable=False)

    __table_args__ = (CheckConstraint(_in("role", ORGANISER_ROLES), name="ck_organisers_role"),)


class Fact(Base):
    __tablename__ = "facts"

    id: Mapped[int] = Column(Integer, primary_key=True)
    key: Mapped[str] = Column(String(KEY_LEN), nullable=False, unique=True)
    position: Mapped[int] = Column(Integer, nullable=False)
    category: Mapped[str] = Column(String(32), nullable=False)
    # What the fact is about ("招聘报名方式" / "How to apply"): the subject of "... has not
    # been announced" when the fact is unconfirmed.
    subject_zh: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    subject_en: Mapped[str] = Column(String(NAME_LEN), nullable=False)
    text_zh: Mapped[str] = Column(Text, nullable=False)
    text_en: Mapped[str] = Column(Text, nullable=False)
    source: Mapped[str] = Column(Text, nullable=False)
    confirmed: Mapped[bool] = Column(Boolean, nullable=False)
    note_zh: Mapped[str | None] = Column(Text)
    note_en: Mapped[str | None] = Column(Text)


class Logistics(Base):
    """Practical information (tickets, hours, parking, Wi-Fi...) for the whole week (no scope),
    one event (`event_key`) or one venue (`venue_key`). Text None = not announced: staff fill
    it in from the console when it is, and the answer changes at once. How to reach a venue
    is the venue's `transport_*`, not a record here: one place for each fact."""

    __tablename__ = "logistics"

    id: Mapped[int] = Column(Integer, primary_key=True)
    key: Mapped[str] = Column(String(KEY_LEN), nullable=False, unique=True)
    position: Mapped[int] = Column(Integer, nullable=False)
    topic: Mapped[str] = Column(String(32), nullable=False)
    event_key: Mapped[str | None] = Column(String(KEY_LEN), ForeignKey("events.key"))
    venue_key: Mapped[str | None] = Column(String(KEY_LEN), ForeignKey("venues.key"))
    text_zh: Mapped[str | None] = Column(Text)
    text_en: Mapped[str | None] = Column(Text)
    source: Mapped[str] = Column(Text, nullable=False)
    confirmed: Mapped[bool] = Column(Boolean, nullable=False)
    note_zh: Mapped[str | None] = Column(Text)
    note_en: Mapped[str | None] = Column(Text)

    __table_args__ = (
        CheckConstraint(_in("topic", LOGISTICS_TOPICS), name="ck_logistics_topic"),
        CheckConstraint("event_key IS NULL OR venue_key IS NULL", name="ck_logistics_scope"),
        CheckConstraint("text_zh IS NOT NULL OR NOT confirmed", name="ck_logistics_text"),
    )


class Alias(Base):
    """Every name a visitor might type for a thing (zh, Traditional, en, abbreviations).

    Titles and names are included too, so this one table is the gazetteer.
    """

    __tablename__ = "aliases"

    id: Mapped[int] = Column(Integer, primary_key=True)
    entity: Mapped[str] = Column(String(16), nullable=False)
    key: Mapped[str] = Column(String(KEY_LEN), nullable=False)
    text: Mapped[str] = Column(String(NAME_LEN), nullable=False)

    __table_args__ = (
        UniqueConstraint("entity", "key", "text", name="uq_aliases"),
        CheckConstraint(_in("entity", ALIAS_ENTITIES), name="ck_aliases_entity"),
    )


# Children before parents: the order in which a reload deletes rows.
SEED_TABLES: Final = (
    Alias,
    Logistics,
    Event,
    ForumTopic,
    Venue,
    ThemeDay,
    Organiser,
    Fact,
    Week,
)
