"""What the database hands out: frozen dataclasses, detached from any session.

Actions receive plain values they can keep, cache and compare; no lazy loading can reach back
into a closed session. A class's fields are its table's columns, by name, except
`bot.db.models.DERIVED_COLUMNS`; its methods pick zh/en text (`title(lang)`, `name(lang)`),
so callers never spell column names. Only what a caller uses gets a method.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import TypeVar

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
        """Each source: "seed" (the Guangzhou Daily article) or a public URL.

        Provenance kept for the staff console, which will show where each fact came from.
        """
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

    def note(self, lang: Lang) -> str | None:
        """What about this event is not confirmed (None when nothing is)."""
        return pick(lang, self.note_zh, self.note_en)

    @property
    def date_known(self) -> bool:
        return self.date_precision != "unknown"


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


# What each logistics topic is about, for "... has not been announced" and the console's lists.
LOGISTICS_TOPIC_NAMES: dict[str, dict[Lang, str]] = {
    "admission": {"zh": "门票和入场信息", "en": "Tickets and admission"},
    "opening_hours": {"zh": "开放时间", "en": "Opening hours"},
    "transport": {"zh": "交通方式", "en": "How to get there"},
    "parking": {"zh": "停车安排", "en": "Parking"},
    "registration": {"zh": "报名和预约方式", "en": "Registration"},
    "rooms": {"zh": "会议室和场地安排", "en": "Rooms"},
    "accessibility": {"zh": "无障碍设施信息", "en": "Accessibility"},
    "wifi": {"zh": "无线网络（Wi-Fi）信息", "en": "Wi-Fi"},
    "luggage": {"zh": "行李寄存安排", "en": "Luggage storage"},
    "lost_property": {"zh": "失物招领安排", "en": "Lost property"},
}


@dataclass(frozen=True)
class LogisticsInfo(_Sourced):
    key: str
    topic: str
    event_key: str | None  # None (and venue_key None): the whole week
    venue_key: str | None
    text_zh: str | None
    text_en: str | None
    confirmed: bool
    note_zh: str | None
    note_en: str | None

    def topic_name(self, lang: Lang) -> str:
        return LOGISTICS_TOPIC_NAMES[self.topic][lang]

    def text(self, lang: Lang) -> str | None:
        """The announced information; None while not announced. A text that is not
        `confirmed` is a draft: never state it."""
        return pick(lang, self.text_zh, self.text_en) if self.confirmed else None

    def note(self, lang: Lang) -> str | None:
        return pick(lang, self.note_zh, self.note_en)


@dataclass(frozen=True, order=True)
class NameEntry:
    """One name a visitor may type, and the database key it means (the gazetteer's rows)."""

    entity: str  # event | venue | theme_day | forum_topic
    key: str
    text: str
