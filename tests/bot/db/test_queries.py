"""EventDB queries against the real seed, loaded into a temporary SQLite database."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine

from bot import paths
from bot.db import DatabaseNotReady, EventDB, NameEntry, china_date, load_seed
from bot.db.models import metadata

INJECTION = "x' OR '1'='1"
SUB_FORUM_KEYS = {
    "subforum_governance",
    "subforum_personal_info",
    "subforum_connected_cars",
    "subforum_youth_protection",
    "subforum_egov",
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> EventDB:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cyberweek.db'}"
    load_seed(paths.SEED_DIR, url)
    database = EventDB(url)
    yield database
    database.dispose()


def seed_week() -> dict:
    return yaml.safe_load((paths.SEED_DIR / "week.yml").read_text(encoding="utf-8"))["week"]


# --- schedule ------------------------------------------------------------------------------


def test_events_on_a_sub_forum_day_lists_the_window_sub_forums(db: EventDB) -> None:
    on_day = {event.key: event for event in db.events_on(date(2024, 9, 10))}
    assert SUB_FORUM_KEYS <= on_day.keys()
    assert {on_day[key].date_precision for key in SUB_FORUM_KEYS} == {"window"}
    assert "opening_ceremony" not in on_day
    assert "main_forum" not in on_day
    assert on_day["expo"].date_precision == "exact"  # 7-12 Sept, every day


def test_events_on_the_opening_day(db: EventDB) -> None:
    on_day = {event.key: event for event in db.events_on(date(2024, 9, 8))}
    assert on_day["opening_ceremony"].date_precision == "exact"
    assert on_day["opening_ceremony"].part_of_day == "morning"
    assert not SUB_FORUM_KEYS & on_day.keys()
    assert db.events_on(date(2024, 9, 20)) == ()


def test_events_on_takes_a_moment_as_its_day_in_china(db: EventDB) -> None:
    late_utc = datetime(2024, 9, 10, 17, 0, tzinfo=timezone.utc)  # 01:00 on 11 Sept in China
    keys = {event.key for event in db.events_on(late_utc)}
    assert "telecom_day_forum" in keys


def test_opening_ceremony_and_main_forum(db: EventDB) -> None:
    opening = db.event("opening_ceremony")
    assert opening is not None
    assert (opening.start_date, opening.date_precision) == (date(2024, 9, 8), "exact")
    assert opening.confirmed and opening.sources == ("seed",)
    assert opening.title("zh").endswith("开幕式") and "Opening" in opening.title("en")
    forum = db.event("main_forum")
    assert forum is not None and forum.start_date == date(2024, 9, 9)
    assert forum.venue_key == opening.venue_key == "iff_nansha"
    assert any(s.startswith("http") for s in forum.sources)


def test_unknown_dates_stay_unknown(db: EventDB) -> None:
    for key in ("seminars", "recruitment", "innovation_competition"):
        event = db.event(key)
        assert event is not None
        assert event.date_precision == "unknown" and event.start_date is None, key
        assert event.note("zh") and event.note("en"), key
    week_start, week_end = db.week_span()
    for offset in range((week_end - week_start).days + 1):
        keys = {e.key for e in db.events_on(week_start + timedelta(days=offset))}
        assert "seminars" not in keys


def test_sub_forums_and_topics(db: EventDB) -> None:
    forums = db.sub_forums()
    assert {forum.key for forum in forums} == SUB_FORUM_KEYS
    assert all(f.parent_key == "sub_forums" and f.date_precision == "window" for f in forums)
    personal = db.sub_forum_by_topic("personal_info")
    assert personal is not None and personal.key == "subforum_personal_info"
    assert "个人信息保护" in personal.title("zh")
    assert db.sub_forum_by_topic("cooking") is None


def test_week_span_comes_from_the_seed(db: EventDB) -> None:
    week = seed_week()
    assert (
        db.week_span()
        == (week["start_date"], week["end_date"])
        == (
            date(2024, 9, 9),
            date(2024, 9, 15),
        )
    )


# --- venues ----------------------------------------------------------------------------------


def test_venue_of_events(db: EventDB) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None and venue.key == "iff_nansha"
    assert venue.district("zh") == "南沙区" and venue.city("en") == "Guangzhou"
    assert "IFF" in venue.name("zh") and "International Financial Forum" in venue.name("en")
    press = db.venue_of_event("press_conference")
    assert press is not None and press.name("en") == "Beijing"
    park = db.venue_of_event("theme_park")
    assert park is not None and park.name("zh") == "蕉门公园"
    telecom = db.event("telecom_day_forum")
    assert telecom is not None and telecom.location_zh == "广州"
    assert db.venue_of_event("telecom_day_forum") is None
    assert db.venue_of_event("no_such_event") is None


def test_unannounced_venue_details_are_empty_not_guessed(db: EventDB) -> None:
    venue = db.venue("iff_nansha")
    assert venue is not None
    assert venue.address("zh") is None and venue.address("en") is None
    assert venue.transport("zh") is None and venue.transport("en") is None
    assert "not been announced" in (venue.note_en or "")


# --- theme days ----------------------------------------------------------------------------


def test_theme_day_on(db: EventDB) -> None:
    campus = db.theme_day_on(date(2024, 9, 10))
    assert campus is not None and campus.key == "campus_day" and campus.date_confirmed
    telecom = db.theme_day_on(date(2024, 9, 11))
    assert telecom is not None and telecom.name("zh") == "电信日"
    finance = db.theme_day_on(date(2024, 9, 13))
    assert finance is not None and finance.key == "finance_day"
    assert finance.date_confirmed is False and finance.note_en
    assert db.theme_day_on(date(2024, 9, 8)) is None


def test_theme_days_confirmation(db: EventDB) -> None:
    days = db.theme_days()
    assert [d.key for d in days] == [
        "campus_day",
        "telecom_day",
        "rule_of_law_day",
        "finance_day",
        "youth_day",
        "personal_info_day",
    ]
    confirmed = {d.key for d in days if d.date_confirmed}
    assert confirmed == {"campus_day", "telecom_day", "rule_of_law_day"}
    assert all(d.sources and d.date is not None for d in days)


# --- facts -----------------------------------------------------------------------------------


def test_unconfirmed_facts_are_flagged(db: EventDB) -> None:
    for key in ("recruitment_apply", "recruitment_employers", "recruitment_date"):
        fact = db.fact(key)
        assert fact is not None and fact.confirmed is False, key
        assert fact.subject("zh") and fact.subject("en"), key
        assert "尚未公布" in fact.text("zh") and "not been announced" in fact.text("en"), key
    jobs = db.fact("recruitment_jobs")
    assert jobs is not None and jobs.confirmed and "数万" in jobs.text("zh")
    location = db.fact("recruitment_location")
    assert location is not None and location.confirmed
    assert "https://www.einpresswire.com/article/742463613/" in location.sources
    spokespeople = db.fact("spokespeople")
    assert spokespeople is not None and "Gao Lin" in spokespeople.text("en")
    assert spokespeople.note_en  # Du Xinshang's Chinese name is not confirmed


def test_fact_text_in_both_languages(db: EventDB) -> None:
    size = db.fact("expo_size")
    assert size is not None and size.category == "expo"
    assert "1万平方米" in size.text("zh") and "10,000" in size.text("en")


def test_logistics_records_by_exact_scope(db: EventDB) -> None:
    """One record per topic for the whole week; the expo's own where the seed has one; none
    of them announced (text None), so nothing can be stated from them."""
    records = yaml_logistics()
    week_topics = {r["topic"] for r in records if not r.get("event_key") and not r.get("venue_key")}
    assert len(week_topics) == 10
    for topic in week_topics:
        week = db.logistics(topic)
        assert week is not None and (week.event_key, week.venue_key) == (None, None), topic
        assert week.topic_name("zh") and week.topic_name("en")
        assert week.text("zh") is None and week.text("en") is None and not week.confirmed
    expo_topics = {r["topic"] for r in records if r.get("event_key") == "expo"}
    assert expo_topics >= {"admission", "opening_hours", "registration"}
    for topic in expo_topics:
        assert db.logistics(topic, event="expo").key != db.logistics(topic).key
    assert db.logistics("wifi", event="expo") is None  # no record of its own: the week's holds
    assert db.logistics("admission", event="expo", venue="iff_nansha") is None
    assert db.logistics(INJECTION) is None and db.logistics("wifi", event=INJECTION) is None


def yaml_logistics() -> list[dict]:
    document = yaml.safe_load((paths.SEED_DIR / "logistics.yml").read_text(encoding="utf-8"))
    return document["logistics"]


# --- names -----------------------------------------------------------------------------------


def test_names_include_traditional_and_english_aliases(db: EventDB) -> None:
    names = set(db.names())
    for entry in (
        NameEntry("event", "opening_ceremony", "开幕式"),
        NameEntry("event", "opening_ceremony", "開幕式"),
        NameEntry("event", "opening_ceremony", "opening ceremony"),
        NameEntry("venue", "iff_nansha", "IFF"),
        NameEntry("venue", "iff_nansha", "南沙會場"),
        NameEntry("theme_day", "personal_info_day", "個人資訊保護日"),
        NameEntry("theme_day", "campus_day", "Campus Day"),
        NameEntry("forum_topic", "connected_cars", "車聯網"),
    ):
        assert entry in names, entry
    texts = [n.text.casefold() for n in names]
    assert len(texts) == len(set(texts))  # one name, one meaning
    assert {n.entity for n in names} == {"event", "venue", "theme_day", "forum_topic"}


# --- safety and robustness -------------------------------------------------------------------


def test_sql_injection_looking_keys_match_nothing(db: EventDB) -> None:
    before = len(db.all_events())
    assert db.event(INJECTION) is None
    assert db.venue(INJECTION) is None
    assert db.venue_of_event(INJECTION) is None
    assert db.theme_day(INJECTION) is None
    assert db.fact(INJECTION) is None
    assert db.sub_forum_by_topic(INJECTION) is None
    assert db.event("opening_ceremony'; DROP TABLE events; --") is None
    assert db.event("x" * 10_000) is None
    assert db.event(None) is None  # type: ignore[arg-type]
    assert len(db.all_events()) == before


def test_results_are_frozen_and_detached(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'detached.db'}"
    load_seed(paths.SEED_DIR, url)
    database = EventDB(url)
    event = database.event("expo")
    database.dispose()
    assert event is not None and event.end_date == date(2024, 9, 12)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.title_en = "changed"  # type: ignore[misc]
    with pytest.raises(ValueError):
        event.title("fr")  # type: ignore[arg-type]


def test_empty_database_is_not_ready(tmp_path: Path) -> None:
    database = EventDB(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(DatabaseNotReady, match="cyberweek db load"):
        database.event("opening_ceremony")
    with pytest.raises(DatabaseNotReady):
        database.names()


def test_tables_without_data_are_not_ready(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tables-only.db'}"
    engine = create_engine(url, future=True)
    metadata.create_all(engine)
    engine.dispose()
    with pytest.raises(DatabaseNotReady, match="no seed data"):
        EventDB(url).week_span()


def test_database_becomes_ready_after_a_load(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'later.db'}"
    database = EventDB(url)
    with pytest.raises(DatabaseNotReady):
        database.event("opening_ceremony")
    load_seed(paths.SEED_DIR, url)
    assert database.event("opening_ceremony") is not None


def test_dropped_table_after_start_is_not_ready(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dropped.db'}"
    load_seed(paths.SEED_DIR, url)
    database = EventDB(url)
    assert database.fact("theme") is not None
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE facts")
    engine.dispose()
    with pytest.raises(DatabaseNotReady, match="facts"):
        database.fact("theme")


def test_out_of_date_schema_is_not_ready_until_a_load_rebuilds_it(tmp_path: Path) -> None:
    """Queries and the loader share one idea of "out of date" (bot.db.schema)."""
    url = f"sqlite:///{tmp_path / 'old-schema.db'}"
    load_seed(paths.SEED_DIR, url)
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE facts ADD COLUMN retired TEXT")
    engine.dispose()
    database = EventDB(url)
    with pytest.raises(DatabaseNotReady, match="table facts has an out-of-date schema"):
        database.fact("theme")
    load_seed(paths.SEED_DIR, url)
    assert database.fact("theme") is not None


# --- time zone -------------------------------------------------------------------------------


def test_china_date() -> None:
    assert china_date(datetime(2024, 9, 9, 17, 0, tzinfo=timezone.utc)) == date(2024, 9, 10)
    assert china_date(datetime(2024, 9, 9, 23, 0)) == date(2024, 9, 9)  # naive = China time
