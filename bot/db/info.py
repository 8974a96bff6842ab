"""What the database hands out: frozen dataclasses, detached from any session.

Actions receive plain values they can keep, cache and compare; no lazy loading can reach back
into a closed session. Every class picks its zh/en text with `title(lang)` / `name(lang)` /
`text(lang)`, so callers never spell column names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TypeVar

from bot.db.tz import local_datetime
from bot.lang import Lang

T = TypeVar("T")


def pick(lang: str, zh: T, en: T) -> T:
    """The value for `lang`; any other language is a programming error, not a fallback."""
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    raise ValueError(f"unsupported language {lang!r}; expected 'zh' or 'en'")


def split_sources(source: str) -> tuple[str, ...]:
    """`source` as stored (space-separated "seed" and URLs) -> its items."""
    return tuple(source.split())


@dataclass(frozen=True)
class _Sourced:
    source: str

    @property
    def sources(self) -> tuple[str, ...]:
        """Each source: "seed" (the Guangzhou Daily article) or a public URL."""
        return split_sources(self.source)


@dataclass(frozen=True)
class EventInfo(_Sourced):
    key: str
    kind: str
    title_zh: str
    title_en: str
    description_zh: str | None
    description_en: str | None
    date_precision: str  # exact | window | unknown
    start_date: date | None
    end_date: date | None
    start_time: time | None
    end_time: time | None
    part_of_day: str | None  # morning | afternoon | evening
    venue_key: str | None
    location_zh: str | None
    location_en: str | None
    topic: str | None
    parent_key: str | None
    confirmed: bool
    note_zh: str | None
    note_en: str | None

    def title(self, lang: Lang) -> str:
        return pick(lang, self.title_zh, self.title_en)

    def description(self, lang: Lang) -> str | None:
        return pick(lang, self.description_zh, self.description_en)

    def location(self, lang: Lang) -> str | None:
        return pick(lang, self.location_zh, self.location_en)

    def note(self, lang: Lang) -> str | None:
        """What about this event is not confirmed (None when nothing is)."""
        return pick(lang, self.note_zh, self.note_en)

    @property
    def is_window(self) -> bool:
        """Held on some day within start..end, but which day is not announced."""
        return self.date_precision == "window"

    @property
    def date_known(self) -> bool:
        return self.date_precision != "unknown"

    def covers(self, day: date) -> bool:
        """Whether the event is (exact) or may be (window) on `day`."""
        if self.start_date is None or self.end_date is None:
            return False
        return self.start_date <= day <= self.end_date

    def starts_at(self) -> datetime | None:
        """Tz-aware start (Asia/Shanghai) when both the exact day and the time are known."""
        if self.date_precision != "exact" or self.start_date is None or self.start_time is None:
            return None
        return local_datetime(self.start_date, self.start_time)

    def ends_at(self) -> datetime | None:
        """Tz-aware end (Asia/Shanghai) when both the exact last day and end time are known."""
        if self.date_precision != "exact" or self.end_date is None or self.end_time is None:
            return None
        return local_datetime(self.end_date, self.end_time)


@dataclass(frozen=True)
class VenueInfo(_Sourced):
    key: str
    name_zh: str
    name_en: str
    city_zh: str
    city_en: str
    district_zh: str | None
    district_en: str | None
    address_zh: str | None
    address_en: str | None
    transport_zh: str | None
    transport_en: str | None
    confirmed: bool
    note_zh: str | None
    note_en: str | None

    def name(self, lang: Lang) -> str:
        return pick(lang, self.name_zh, self.name_en)

    def city(self, lang: Lang) -> str:
        return pick(lang, self.city_zh, self.city_en)

    def district(self, lang: Lang) -> str | None:
        return pick(lang, self.district_zh, self.district_en)

    def address(self, lang: Lang) -> str | None:
        """None = not announced: say so, never make one up."""
        return pick(lang, self.address_zh, self.address_en)

    def transport(self, lang: Lang) -> str | None:
        """None = not announced: say so, never make one up."""
        return pick(lang, self.transport_zh, self.transport_en)

    def note(self, lang: Lang) -> str | None:
        return pick(lang, self.note_zh, self.note_en)


@dataclass(frozen=True)
class ThemeDayInfo(_Sourced):
    key: str
    name_zh: str
    name_en: str
    date: date | None
    date_confirmed: bool
    note_zh: str | None
    note_en: str | None

    def name(self, lang: Lang) -> str:
        return pick(lang, self.name_zh, self.name_en)

    def note(self, lang: Lang) -> str | None:
        """Why the date is not confirmed (None when it is)."""
        return pick(lang, self.note_zh, self.note_en)


@dataclass(frozen=True)
class ForumTopicInfo(_Sourced):
    key: str
    name_zh: str
    name_en: str
    confirmed: bool

    def name(self, lang: Lang) -> str:
        return pick(lang, self.name_zh, self.name_en)


@dataclass(frozen=True)
class FactInfo(_Sourced):
    key: str
    category: str
    subject_zh: str
    subject_en: str
    text_zh: str
    text_en: str
    confirmed: bool
    note_zh: str | None
    note_en: str | None

    def subject(self, lang: Lang) -> str:
        """What the fact is about ("How to apply"), for "... has not been announced"."""
        return pick(lang, self.subject_zh, self.subject_en)

    def text(self, lang: Lang) -> str:
        """The fact; when `confirmed` is False, a sentence saying it is not announced."""
        return pick(lang, self.text_zh, self.text_en)

    def note(self, lang: Lang) -> str | None:
        return pick(lang, self.note_zh, self.note_en)


@dataclass(frozen=True)
class OrganiserInfo(_Sourced):
    key: str
    name_zh: str
    name_en: str
    role: str  # lead | member
    confirmed: bool

    def name(self, lang: Lang) -> str:
        return pick(lang, self.name_zh, self.name_en)


@dataclass(frozen=True)
class WeekInfo(_Sourced):
    key: str
    name_zh: str
    name_en: str
    start_date: date
    end_date: date

    def name(self, lang: Lang) -> str:
        return pick(lang, self.name_zh, self.name_en)


@dataclass(frozen=True, order=True)
class NameEntry:
    """One name a visitor may type, and the database key it means (the gazetteer's rows)."""

    entity: str  # event | venue | theme_day | forum_topic
    key: str
    text: str
