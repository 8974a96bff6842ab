"""The seed loader: the real seed loads and covers the shared keys; bad seeds change nothing."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import paths
from bot.db import EventDB, SeedError, check_seed, collect_names, load_seed
from bot.db import engine as db_engine
from bot.db.seed import load as seed_load
from tests.bot.db.rows import snapshot

SEED_DIR = paths.SEED_DIR
DATA_KEYS_DOC = paths.REPO_ROOT / "docs" / "data-keys.md"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def yaml_records(section: str) -> list[dict[str, Any]]:
    """The records of a section across the real seed files, read independently of bot.db."""
    records: list[dict[str, Any]] = []
    for path in sorted(SEED_DIR.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        body = document.get(section)
        if isinstance(body, list):
            records += body
        elif isinstance(body, dict):
            records.append(body)
    return records


def file_of(section: str) -> str:
    """Which seed file holds `section` (so the tests follow the files if they are renamed)."""
    for path in sorted(SEED_DIR.glob("*.yml")):
        if section in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}):
            return path.name
    raise AssertionError(f"no seed file has a {section!r} section")


def shared_keys(heading: str) -> set[str]:
    """Backticked keys listed in docs/data-keys.md under a table row or section."""
    text = DATA_KEYS_DOC.read_text(encoding="utf-8")
    if heading.startswith("entity:"):
        entity = heading.split(":", 1)[1]
        row = next(line for line in text.splitlines() if line.startswith(f"| `{entity}` |"))
        return set(re.findall(r"`([a-z_0-9]+)`", row.split("|")[2]))
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([a-z][a-z_0-9]+)`", section))


@pytest.fixture()
def seed_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seed"
    shutil.copytree(SEED_DIR, target)
    return target


@pytest.fixture()
def loaded_url(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path / "loaded.db")
    load_seed(SEED_DIR, url)
    return url


def edit_record(seed_dir: Path, section: str, index: int, change: Callable[[dict], None]) -> str:
    """Apply `change` to one record of the seed copy; returns the file name."""
    name = file_of(section)
    path = seed_dir / name
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document[section][index])
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")
    return name


def index_of(section: str, key: str) -> int:
    keys = [
        record["key"]
        for record in yaml.safe_load((SEED_DIR / file_of(section)).read_text(encoding="utf-8"))[
            section
        ]
    ]
    return keys.index(key)


# --- the real seed -------------------------------------------------------------------------


def test_real_seed_is_valid() -> None:
    assert check_seed(SEED_DIR) == []


def test_load_counts_match_the_yaml(tmp_path: Path) -> None:
    report = load_seed(SEED_DIR, sqlite_url(tmp_path / "db.sqlite"))
    sections = ("venues", "forum_topics", "events", "theme_days", "organisers", "facts")
    for section in (*sections, "logistics"):
        assert report.counts[section] == len(yaml_records(section)), section
    assert report.counts["week"] == 1
    # Counts the article itself states.
    assert report.counts["theme_days"] == 6
    assert report.counts["organisers"] == 10
    assert report.counts["forum_topics"] == 5
    assert report.counts["aliases"] > report.counts["events"] + report.counts["venues"]
    assert "events" in str(report)


def test_seed_covers_every_shared_key(loaded_url: str) -> None:
    db = EventDB(loaded_url)
    fact_keys = shared_keys("## Key facts (`facts.key`)")
    assert len(fact_keys) >= 30
    assert {key for key in fact_keys if db.fact(key) is None} == set()
    sub_forums = {
        key for key in shared_keys("## Event keys in the database") if key.startswith("subforum_")
    }
    assert len(sub_forums) == 5
    event_keys = shared_keys("entity:event") | sub_forums
    assert len(event_keys) == 17
    assert {key for key in event_keys if db.event(key) is None} == set()
    assert {k for k in shared_keys("entity:venue") if db.venue(k) is None} == set()
    assert {k for k in shared_keys("entity:theme_day") if db.theme_day(k) is None} == set()
    topics = shared_keys("entity:forum_topic")
    assert {k for k in topics if db.sub_forum_by_topic(k) is None} == set()


def test_every_record_has_a_source_and_confirmed_flag() -> None:
    for section in ("venues", "forum_topics", "events", "organisers", "facts", "logistics"):
        for record in yaml_records(section):
            assert record.get("source"), (section, record.get("key"))
            assert isinstance(record.get("confirmed"), bool), (section, record.get("key"))


def test_second_load_gives_the_same_rows(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "twice.db")
    first_report = load_seed(SEED_DIR, url)
    first = snapshot(url)
    second_report = load_seed(SEED_DIR, url)
    assert snapshot(url) == first
    assert second_report == first_report
    assert len(first["events"]) == first_report.counts["events"]


def test_collect_names_matches_the_loaded_gazetteer(loaded_url: str) -> None:
    assert set(collect_names(SEED_DIR)) == set(EventDB(loaded_url).names())


def test_a_changed_seed_replaces_the_old_rows(seed_copy: Path, loaded_url: str) -> None:
    index = index_of("events", "opening_ceremony")
    edit_record(seed_copy, "events", index, lambda r: r.update(title_en="Renamed ceremony"))
    load_seed(seed_copy, loaded_url)
    event = EventDB(loaded_url).event("opening_ceremony")
    assert event is not None and event.title_en == "Renamed ceremony"


def test_load_rebuilds_tables_with_an_old_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, key TEXT)")
        connection.execute("INSERT INTO events (key) VALUES ('stale')")
    report = load_seed(SEED_DIR, sqlite_url(path))
    db = EventDB(sqlite_url(path))
    assert db.event("stale") is None
    assert len(db.all_events()) == report.counts["events"]


def test_default_url_is_a_sqlite_file_under_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(db_engine, "DEFAULT_DB_FILE", tmp_path / "var" / "cyberweek.db")
    assert db_engine.database_url() == f"sqlite:///{tmp_path / 'var' / 'cyberweek.db'}"
    assert (tmp_path / "var").is_dir()
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:secret@db/cyberweek")
    assert db_engine.database_url() == "postgresql://bot:secret@db/cyberweek"
    assert "secret" not in db_engine.describe_url(db_engine.database_url())


# --- bad seeds -----------------------------------------------------------------------------


def _missing_field(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("events", "main_forum")
    name = edit_record(seed_dir, "events", index, lambda r: r.pop("title_en"))
    return name, f"events[{index}]", "'main_forum'", "'title_en'", "missing"


def _bad_date(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("events", "opening_ceremony")
    name = edit_record(seed_dir, "events", index, lambda r: r.update(start_date="2024-09-31"))
    return name, f"events[{index}]", "'opening_ceremony'", "'start_date'", "2024-09-31"


def _impossible_unquoted_date(seed_dir: Path) -> tuple[str, ...]:
    """PyYAML itself fails on an unquoted 2024-09-31; the message must still say where."""
    index = index_of("events", "opening_ceremony")
    name = file_of("events")
    path = seed_dir / name
    text = path.read_text(encoding="utf-8")
    assert text.count("start_date: 2024-09-08\n") == 1
    path.write_text(text.replace("start_date: 2024-09-08\n", "start_date: 2024-09-31\n"), "utf-8")
    return name, f"events[{index}]", "'opening_ceremony'", "'start_date'", "2024-09-31"


def _duplicate_key(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("theme_days", "youth_day")
    name = edit_record(seed_dir, "theme_days", index, lambda r: r.update(key="campus_day"))
    return name, f"theme_days[{index}]", "'campus_day'", "'key'", "duplicate"


def _unknown_venue(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("events", "expo")
    name = edit_record(seed_dir, "events", index, lambda r: r.update(venue_key="nowhere"))
    return name, f"events[{index}]", "'expo'", "'venue_key'", "nowhere"


def _malformed_yaml(seed_dir: Path) -> tuple[str, ...]:
    name = file_of("venues")
    with (seed_dir / name).open("a", encoding="utf-8") as file:
        file.write("  - key: [unclosed\n    name_zh: x\n")
    return name, "line", "malformed YAML"


def _unquoted_time(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("events", "opening_ceremony")
    name = edit_record(seed_dir, "events", index, lambda r: r.update(start_time=570))
    return name, f"events[{index}]", "'start_time'", "quotes"


def _unknown_kind(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("events", "seminars")
    name = edit_record(seed_dir, "events", index, lambda r: r.update(kind="party"))
    return name, f"events[{index}]", "'seminars'", "'kind'", "party"


def _window_with_a_time(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("events", "subforum_egov")
    name = edit_record(seed_dir, "events", index, lambda r: r.update(part_of_day="morning"))
    return name, f"events[{index}]", "'subforum_egov'", "'part_of_day'", "window"


def _unknown_date_with_a_date(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("events", "recruitment")
    name = edit_record(seed_dir, "events", index, lambda r: r.update(start_date="2024-09-10"))
    return name, f"events[{index}]", "'recruitment'", "'start_date'", "unknown"


def _unknown_topic(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("events", "subforum_governance")
    name = edit_record(seed_dir, "events", index, lambda r: r.update(topic="cooking"))
    return name, f"events[{index}]", "'subforum_governance'", "'topic'", "cooking"


def _ambiguous_alias(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("events", "expo")
    name = edit_record(seed_dir, "events", index, lambda r: r["aliases"].append("開幕式"))
    return name, f"events[{index}]", "'expo'", "'aliases'", "opening_ceremony"


def _typo_field(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("facts", "theme")
    name = edit_record(seed_dir, "facts", index, lambda r: r.update(confimed=True))
    return name, f"facts[{index}]", "'theme'", "'confimed'", "unknown field"


def _unconfirmed_without_note(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("theme_days", "finance_day")
    name = edit_record(seed_dir, "theme_days", index, lambda r: r.pop("note_zh"))
    return name, f"theme_days[{index}]", "'finance_day'", "'note_zh'"


def _bad_source(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("facts", "mou")
    name = edit_record(seed_dir, "facts", index, lambda r: r.update(source="a friend told me"))
    return name, f"facts[{index}]", "'mou'", "'source'"


def _logistics_confirmed_without_text(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("logistics", "expo_admission")
    name = edit_record(seed_dir, "logistics", index, lambda r: r.update(confirmed=True))
    return name, f"logistics[{index}]", "'expo_admission'", "'text_zh'"


def _logistics_two_scopes(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("logistics", "expo_admission")
    name = edit_record(seed_dir, "logistics", index, lambda r: r.update(venue_key="iff_nansha"))
    return name, f"logistics[{index}]", "'expo_admission'", "'venue_key'", "not both"


def _logistics_same_scope_twice(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("logistics", "week_wifi")
    name = edit_record(seed_dir, "logistics", index, lambda r: r.update(topic="admission"))
    return name, f"logistics[{index}]", "'week_wifi'", "'topic'", "week_admission"


def _logistics_transport_of_a_venue(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("logistics", "week_transport")
    name = edit_record(seed_dir, "logistics", index, lambda r: r.update(venue_key="iff_nansha"))
    return name, f"logistics[{index}]", "'week_transport'", "'venue_key'", "transport_zh"


def _logistics_unknown_event(seed_dir: Path) -> tuple[str, ...]:
    index = index_of("logistics", "expo_opening_hours")
    name = edit_record(seed_dir, "logistics", index, lambda r: r.update(event_key="atlantis"))
    return name, f"logistics[{index}]", "'expo_opening_hours'", "'event_key'", "atlantis"


BAD_SEEDS = [
    _missing_field,
    _bad_date,
    _impossible_unquoted_date,
    _duplicate_key,
    _unknown_venue,
    _malformed_yaml,
    _unquoted_time,
    _unknown_kind,
    _window_with_a_time,
    _unknown_date_with_a_date,
    _unknown_topic,
    _ambiguous_alias,
    _typo_field,
    _unconfirmed_without_note,
    _bad_source,
    _logistics_confirmed_without_text,
    _logistics_two_scopes,
    _logistics_same_scope_twice,
    _logistics_transport_of_a_venue,
    _logistics_unknown_event,
]


@pytest.mark.parametrize("break_seed", BAD_SEEDS, ids=lambda f: f.__name__.strip("_"))
def test_bad_seed_is_reported_and_loads_nothing(
    break_seed: Callable[[Path], tuple[str, ...]], seed_copy: Path, loaded_url: str
) -> None:
    expected = break_seed(seed_copy)
    before = snapshot(loaded_url)

    problems = check_seed(seed_copy)
    assert len(problems) >= 1
    assert any(all(part in problem for part in expected) for problem in problems), problems

    with pytest.raises(SeedError) as raised:
        load_seed(seed_copy, loaded_url)
    message = str(raised.value)
    assert all(part in message for part in expected), message
    assert raised.value.problems == problems
    assert snapshot(loaded_url) == before


def test_bad_seed_does_not_create_a_database(seed_copy: Path, tmp_path: Path) -> None:
    _bad_date(seed_copy)
    target = tmp_path / "never.db"
    with pytest.raises(SeedError):
        load_seed(seed_copy, sqlite_url(target))
    assert not target.exists()


def test_missing_directory_is_a_seed_error(tmp_path: Path) -> None:
    assert check_seed(tmp_path / "absent") != []
    with pytest.raises(SeedError, match="absent"):
        load_seed(tmp_path / "absent", sqlite_url(tmp_path / "db.sqlite"))


def test_failure_during_the_load_rolls_everything_back(
    seed_copy: Path, loaded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = index_of("events", "opening_ceremony")
    edit_record(seed_copy, "events", index, lambda r: r.update(title_en="Half-loaded"))
    before = snapshot(loaded_url)

    def fail(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(seed_load, "_insert_aliases", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        load_seed(seed_copy, loaded_url)
    assert snapshot(loaded_url) == before


def test_failed_first_load_leaves_no_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = sqlite_url(tmp_path / "first.db")

    def fail(*_args: object) -> None:
        raise RuntimeError("interrupted")

    monkeypatch.setattr(seed_load, "_insert_aliases", fail)
    with pytest.raises(RuntimeError):
        load_seed(SEED_DIR, url)
    with sqlite3.connect(tmp_path / "first.db") as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    assert tables == []
