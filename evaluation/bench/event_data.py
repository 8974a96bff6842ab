"""A large synthetic event database, for measuring and testing queries only (issue #14: event
queries p95 ≤ 5 ms with 100,000 events).

The real seed is loaded first (so the real questions still have their answers), then `count`
generated events are added: spread over 35 years, every kind, precision, part of the day, a few
dozen generated venues besides the seed's, the seed's forum topics, one level of groups; each
record valid by the seed's own rules (bot.db.seed.validate, tests/bot/db/test_query_plans.py
checks a sample). Never loaded by `cyberweek db load` and never written under var/: callers
give a file under build/bench/ or a temporary directory.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bot import paths
from bot.db.engine import make_engine, writer
from bot.db.models import (
    EVENT_KINDS,
    MAX_EVENT_DAYS,
    PARTS_OF_DAY,
    Event,
    ForumTopic,
    Venue,
)
from bot.db.seed import load_seed
from bot.db.seed.load import refresh_statistics

DEFAULT_EVENT_COUNT = 100_000
FIRST_DAY = date(2000, 1, 1)
DAYS = 35 * 365  # up to 2034: every query's day lands among past and future editions
GENERATED_VENUES = 40
SOURCE = "https://example.org/cyberweek/generated-test-data"  # a valid source, on purpose fake
KEY_PREFIX = "gen_"
BATCH = 5_000
TOPIC_KINDS = ("forum", "sub_forum", "seminar")  # the only kinds a topic may go with

_KIND_WORDS = {
    "ceremony": ("仪式", "ceremony"),
    "press_conference": ("新闻发布会", "press conference"),
    "forum": ("论坛", "forum"),
    "sub_forum": ("分论坛", "sub-forum"),
    "seminar": ("研讨会", "seminar"),
    "expo": ("博览会", "expo"),
    "theme_day": ("主题日活动", "theme day event"),
    "recruitment": ("招聘会", "job fair"),
    "publicity": ("宣传活动", "publicity campaign"),
    "competition": ("竞赛", "competition"),
}
_CITIES = (
    ("广州", "Guangzhou"),
    ("北京", "Beijing"),
    ("上海", "Shanghai"),
    ("深圳", "Shenzhen"),
    ("成都", "Chengdu"),
    ("武汉", "Wuhan"),
    ("天津", "Tianjin"),
    ("郑州", "Zhengzhou"),
)


@dataclass(frozen=True)
class GeneratedData:
    venues: list[dict[str, Any]]
    events: list[dict[str, Any]]


def synthetic_data(
    count: int, *, seed_venues: list[str], topics: list[str], rng_seed: int = 14
) -> GeneratedData:
    """`count` events (and the generated venues they use) as seed records, without positions."""
    rng = random.Random(rng_seed)
    venues = [_venue(number, rng) for number in range(GENERATED_VENUES)]
    venue_keys = seed_venues + [venue["key"] for venue in venues]
    events: list[dict[str, Any]] = []
    groups: list[str] = []  # recent top-level events that members may join
    for number in range(count):
        event = _event(number, rng, venue_keys, topics)
        if groups and rng.random() < 0.1:
            event["parent_key"] = rng.choice(groups)
        else:
            groups = (groups + [event["key"]])[-20:]
        events.append(event)
    return GeneratedData(venues, events)


def _venue(number: int, rng: random.Random) -> dict[str, Any]:
    city_zh, city_en = rng.choice(_CITIES)
    return {
        "key": f"{KEY_PREFIX}venue_{number:03d}",
        "name_zh": f"{city_zh}第{number + 1}会展中心",
        "name_en": f"{city_en} Exhibition Centre No. {number + 1}",
        "city_zh": city_zh,
        "city_en": city_en,
        "source": SOURCE,
        "confirmed": True,
    }


def _event(
    number: int, rng: random.Random, venue_keys: list[str], topics: list[str]
) -> dict[str, Any]:
    kind = rng.choice(EVENT_KINDS)
    word_zh, word_en = _KIND_WORDS[kind]
    event: dict[str, Any] = {
        "key": f"{KEY_PREFIX}{number:06d}",
        "kind": kind,
        "parent_key": None,
        "title_zh": f"第{number + 1}号网络安全{word_zh}",
        "title_en": f"Cyber security {word_en} no. {number + 1}",
        "venue_key": rng.choice(venue_keys) if rng.random() < 0.7 else None,
        "topic": rng.choice(topics) if kind in TOPIC_KINDS and rng.random() < 0.7 else None,
        "source": SOURCE,
        "confirmed": rng.random() < 0.9,
        **_dates(rng),
    }
    if event["venue_key"] is None:
        event["location_zh"], event["location_en"] = rng.choice(_CITIES)
    if event["date_precision"] != "exact" or not event["confirmed"]:
        event["note_zh"] = "测试数据：日期或活动尚未确认。"
        event["note_en"] = "Test data: the date or the event is not confirmed."
    return event


def _dates(rng: random.Random) -> dict[str, Any]:
    """2% undated, 10% a window of days, the rest exact; mostly one day, a few long."""
    roll = rng.random()
    if roll < 0.02:
        return {"date_precision": "unknown", "start_date": None, "end_date": None}
    start = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
    if roll < 0.12:
        return {
            "date_precision": "window",
            "start_date": start,
            "end_date": start + timedelta(days=rng.randint(1, 14)),
        }
    span = (
        rng.choice((0,) * 16 + (1, 2, 3, 6))
        if rng.random() < 0.99
        else rng.randint(7, MAX_EVENT_DAYS)
    )
    dates: dict[str, Any] = {
        "date_precision": "exact",
        "start_date": start,
        "end_date": start + timedelta(days=span),
    }
    clock = rng.random()
    if clock < 0.5:
        begins = time(rng.randint(8, 18), rng.choice((0, 30)))
        dates["start_time"] = begins
        if rng.random() < 0.6:
            dates["end_time"] = time(min(begins.hour + rng.randint(1, 4), 23), begins.minute)
    elif clock < 0.7:
        dates["part_of_day"] = rng.choice(PARTS_OF_DAY)
    return dates


def add_synthetic_events(url: str, count: int = DEFAULT_EVENT_COUNT) -> int:
    """Adds `count` generated events (and their venues) to the seeded database at `url`, then
    refreshes the planner's statistics as a load does. Returns the events now in the table."""
    engine = make_engine(url)
    try:
        with Session(writer(engine), future=True) as session, session.begin():
            connection = session.connection()
            seed_venues = list(connection.execute(select(Venue.key)).scalars())
            topics = list(connection.execute(select(ForumTopic.key)).scalars())
            data = synthetic_data(count, seed_venues=seed_venues, topics=topics)
            venue_start = connection.execute(select(func.max(Venue.position))).scalar_one() or 0
            event_start = connection.execute(select(func.max(Event.position))).scalar_one() or 0
            for rows in _batches(_positioned(data.venues, venue_start + 1)):
                connection.execute(insert(Venue), rows)
            # parents come before their members in the list, so each batch's keys resolve
            for rows in _batches(_positioned(data.events, event_start + 1)):
                connection.execute(insert(Event), _with_all_columns(rows))
            refresh_statistics(connection)
            return connection.execute(select(func.count()).select_from(Event)).scalar_one()
    finally:
        engine.dispose()


def build_database(file: Path, count: int = DEFAULT_EVENT_COUNT) -> str:
    """A fresh SQLite file: the real seed plus `count` generated events (none: the seed as
    `cyberweek db load` makes it); returns its URL."""
    if file.resolve().is_relative_to(paths.VAR_DIR.resolve()):
        raise ValueError(f"generated test data never goes under {paths.VAR_DIR}")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.unlink(missing_ok=True)
    url = f"sqlite:///{file}"
    load_seed(paths.SEED_DIR, url)
    if count:
        add_synthetic_events(url, count)
    return url


def _positioned(records: list[dict[str, Any]], first: int) -> list[dict[str, Any]]:
    return [{**record, "position": first + offset} for offset, record in enumerate(records)]


_EVENT_OPTIONAL = (
    "description_zh",
    "description_en",
    "start_time",
    "end_time",
    "part_of_day",
    "location_zh",
    "location_en",
    "note_zh",
    "note_en",
)


def _with_all_columns(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One executemany needs every row to name the same columns."""
    return [{name: None for name in _EVENT_OPTIONAL} | row for row in rows]


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]
