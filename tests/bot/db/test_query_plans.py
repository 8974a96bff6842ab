"""The queries an action runs in a visitor's turn read a bounded part of the events table, and
give the answers the old whole-table path gave (issue #14: p95 ≤ 5 ms with 100,000 events).

A generated database (the real seed plus GENERATED events, evaluation/bench/event_data.py) on
SQLite: each per-turn query's statements are captured and explained; none may walk the whole
events table. Every answer is compared with the same question answered from `all_events()`,
on the generated database and on the plain seed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from sqlalchemy import event, inspect, text

from bot import paths
from bot.db import EventDB, EventInfo, check_seed, load_seed, make_engine
from bot.db.models import MAX_EVENT_DAYS, Event
from evaluation.bench.event_data import build_database, synthetic_data

GENERATED = 6_000
DAYS = [date(2024, 9, d) for d in range(1, 20)] + [
    date(2000, 1, 1),
    date(2011, 3, 15),
    date(2031, 12, 31),
]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventDB]:
    database = EventDB(build_database(tmp_path_factory.mktemp("big") / "events.db", GENERATED))
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventDB]:
    url = f"sqlite:///{tmp_path_factory.mktemp('seed') / 'events.db'}"
    load_seed(paths.SEED_DIR, url)
    database = EventDB(url)
    yield database
    database.dispose()


def per_turn_queries(db: EventDB) -> dict[str, Callable[[], Any]]:
    """What the actions ask in a turn (actions/schedule.py, now_next.py, context.py,
    about_last.py, forum.py), with arguments as they give them."""
    day = date(2024, 9, 10)
    return {
        "event": lambda: db.event("main_forum"),
        "events_on": lambda: db.events_on(day),
        "any_event_on": lambda: db.any_event_on(day),
        "first_start_after": lambda: db.first_start_after(day),
        "week overview": lambda: db.top_level_events_between(date(2024, 1, 1), date(2024, 12, 31)),
        "undated": lambda: db.undated_top_level_events(limit=11),
        "at a venue": lambda: db.top_level_events(venue="iff_nansha", limit=2),
        "of a kind": lambda: db.top_level_events(kind="forum", limit=7),
        "any kind": lambda: db.top_level_events(limit=7),
        "venues": lambda: db.venues_in_event_order(),
        "sub_forums": lambda: db.sub_forums(),
        "sub_forum_by_topic": lambda: db.sub_forum_by_topic("egov"),
        "venue_of_event": lambda: db.venue_of_event("main_forum"),
    }


def captured_selects(db: EventDB, query: Callable[[], Any]) -> list[tuple[str, Any]]:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    engine = db._engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        query()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return statements


def plan(db: EventDB, statement: str, parameters: Any) -> list[str]:
    with db._engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return [row[3] for row in rows]


def test_the_generated_database_is_large_and_analysed(big: EventDB) -> None:
    with big._engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM events")).scalar_one()
        analysed = connection.execute(text("SELECT count(*) FROM sqlite_stat1")).scalar_one()
    assert count > GENERATED
    assert analysed > 0


@pytest.mark.parametrize("name", sorted(per_turn_queries(cast(EventDB, None))))
def test_no_per_turn_query_reads_the_whole_events_table(big: EventDB, name: str) -> None:
    big.event("warm-up")  # the readiness check's own statements are not the turn's
    query = per_turn_queries(big)[name]
    statements = captured_selects(big, query)
    assert statements, f"{name}: no SELECT captured"
    for statement, parameters in statements:
        steps = plan(big, statement, parameters)
        scans = [step for step in steps if step.startswith("SCAN events") and not ordered(step)]
        assert not scans, f"{name} reads every event: {steps}\n{statement}"
        assert any(step.startswith(("SEARCH events", "SCAN events")) for step in steps), steps


def ordered(step: str) -> bool:
    """The undated events' own partial index, read in seed order until the LIMIT: a scan of
    the undated events (a few percent of the table), never of the dated ones."""
    return step == "SCAN events USING INDEX ix_events_undated"


def test_the_old_path_does_read_the_whole_table(big: EventDB) -> None:
    """The check above can fail: all_events(), which turns used before, scans."""
    (statement, parameters), *_ = captured_selects(big, big.all_events)
    assert any(step.startswith("SCAN events") for step in plan(big, statement, parameters))


# --- the same answers as the whole-table path ------------------------------------------------


def top_level(events: tuple[EventInfo, ...]) -> list[EventInfo]:
    return [e for e in events if e.parent_key is None]


def overlaps(e: EventInfo, first: date, last: date) -> bool:
    return e.start_date is not None and e.start_date <= last and e.end_date >= first


@pytest.fixture(params=["seed", "big"])
def db(request: pytest.FixtureRequest) -> EventDB:
    return request.getfixturevalue(request.param)


def test_days_match_the_whole_table(db: EventDB) -> None:
    every = db.all_events()
    for day in DAYS:
        expected = [e for e in every if overlaps(e, day, day)]
        assert list(db.events_on(day)) == expected, day
        assert db.any_event_on(day) == bool(expected), day
        later = [e.start_date for e in every if e.start_date and e.start_date > day]
        assert db.first_start_after(day) == min(later, default=None), day


def test_spans_match_the_whole_table(db: EventDB) -> None:
    every = top_level(db.all_events())
    for first, last, limit in [
        (date(2024, 1, 1), date(2024, 12, 31), 30),
        (date(2024, 9, 9), date(2024, 9, 15), 5),
        (date(2010, 6, 1), date(2010, 6, 30), 1000),
    ]:
        expected = sorted(
            (e for e in every if overlaps(e, first, last)), key=lambda e: (e.start_date, e.key)
        )[:limit]
        assert list(db.top_level_events_between(first, last, limit=limit)) == expected


def test_listings_match_the_whole_table(db: EventDB) -> None:
    every = db.all_events()
    tops = top_level(every)
    undated = [e for e in tops if not e.date_known]
    assert list(db.undated_top_level_events(limit=11)) == undated[:11]
    assert list(db.top_level_events(limit=7)) == tops[:7]
    for kind in ("forum", "expo", "sub_forum", "nonsense"):
        expected = [e for e in tops if e.kind == kind][:7]
        assert list(db.top_level_events(kind=kind, limit=7)) == expected, kind
    venues = list(dict.fromkeys(e.venue_key for e in every if e.venue_key))
    assert list(db.venues_in_event_order()) == venues
    for venue in venues[:5] + ["nowhere"]:
        expected = [e for e in tops if e.venue_key == venue][:2]
        assert list(db.top_level_events(venue=venue, limit=2)) == expected, venue
    sub_forums = [e for e in every if e.kind == "sub_forum" and e.topic]
    assert list(db.sub_forums()) == sub_forums[:30]
    for topic in ("governance", "egov", "nonsense"):
        found = [e for e in sub_forums if e.topic == topic]
        assert db.sub_forum_by_topic(topic) == (found[0] if found else None), topic


def test_long_events_are_found_on_their_last_day(big: EventDB) -> None:
    """The start-date range reaches back MAX_EVENT_DAYS: the longest events still show."""
    longest = max(
        (e for e in big.all_events() if e.start_date),
        key=lambda e: e.end_date - e.start_date,
    )
    assert (longest.end_date - longest.start_date).days > 30  # the generator made some
    assert longest in big.events_on(longest.end_date)


# --- the schema and the data ---------------------------------------------------------------


def test_a_load_adds_the_indexes_to_an_existing_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    load_seed(paths.SEED_DIR, url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for index in Event.__table__.indexes:
                connection.execute(text(f"DROP INDEX {index.name}"))
        load_seed(paths.SEED_DIR, url)  # the tables' columns are current: no rebuild
        with engine.connect() as connection:
            present = {index["name"] for index in inspect(connection).get_indexes("events")}
    finally:
        engine.dispose()
    assert {index.name for index in Event.__table__.indexes} <= present


def test_the_seed_refuses_an_event_longer_than_the_bound(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    shutil.copytree(paths.SEED_DIR, seed)
    events_file = seed / "events.yml"
    data = yaml.safe_load(events_file.read_text(encoding="utf-8"))
    expo = next(e for e in data["events"] if e["key"] == "expo")
    expo["end_date"] = expo["start_date"] + timedelta(days=MAX_EVENT_DAYS + 1)
    events_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = check_seed(seed)
    assert any("end_date" in problem and str(MAX_EVENT_DAYS) in problem for problem in problems)


def as_yaml(record: dict[str, Any]) -> dict[str, Any]:
    """A generated record as the seed writes one (times as "HH:MM", no empty fields)."""
    return {
        name: value.strftime("%H:%M") if isinstance(value, time) else value
        for name, value in record.items()
        if value is not None
    }


def test_generated_records_pass_the_seeds_own_validation(tmp_path: Path) -> None:
    """A sample of the generator's records, added to a copy of the seed, validates."""
    seed = tmp_path / "seed"
    shutil.copytree(paths.SEED_DIR, seed)
    read = lambda name: yaml.safe_load((seed / name).read_text(encoding="utf-8"))  # noqa: E731
    venues, topics = read("venues.yml"), read("forum_topics.yml")
    data = synthetic_data(
        400,
        seed_venues=[v["key"] for v in venues["venues"]],
        topics=[t["key"] for t in topics["forum_topics"]],
    )
    events = read("events.yml")
    events["events"] += [as_yaml(e) for e in data.events]
    venues["venues"] += data.venues
    for name, content in (("events.yml", events), ("venues.yml", venues)):
        (seed / name).write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    assert check_seed(seed) == []
