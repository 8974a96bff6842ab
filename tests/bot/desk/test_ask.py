"""The console's ask box: the bot's answer and the records behind it, with no conversation kept."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
import requests
import yaml

from bot.db import EventDB
from bot.db.desk import StaffInfo
from bot.desk.ask import records_for


@pytest.fixture(scope="module")
def db(seeded_db_url: str) -> EventDB:
    return EventDB(seeded_db_url)


def test_an_event_brings_its_venue_and_a_date_its_events_and_theme_day(db: EventDB) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    found = records_for(db, [{"entity": "event", "value": "opening_ceremony"}], "zh")
    assert [(r.kind, r.key) for r in found] == [("event", "opening_ceremony"), ("venue", venue.key)]
    assert found[1].name == venue.name("zh")

    day = date(2024, 9, 10)
    theme_day = db.theme_day_on(day)
    assert theme_day is not None
    on_day = records_for(db, [{"entity": "date", "value": day.isoformat()}], "en")
    keys = {(r.kind, r.key) for r in on_day}
    assert ("theme_day", theme_day.key) in keys
    assert {("event", e.key) for e in db.events_on(day)} <= keys


def test_unknown_keys_and_bad_dates_name_no_record(db: EventDB) -> None:
    assert records_for(db, [{"entity": "event", "value": "no_such_event"}], "zh") == []
    assert records_for(db, [{"entity": "date", "value": "9月"}], "zh") == []


def conversation_ids(endpoints_file: Path) -> set[str]:
    settings = yaml.safe_load(endpoints_file.read_text(encoding="utf-8"))
    with sqlite3.connect(settings["tracker_store"]["db"]) as connection:
        return {row[0] for row in connection.execute("SELECT DISTINCT sender_id FROM events")}


def test_the_ask_box_answers_from_the_database_and_keeps_no_conversation(
    rasa_server: str,
    endpoints_file: Path,
    staff_accounts: dict[str, StaffInfo],
    staff_password: str,
    db: EventDB,
) -> None:
    base = rasa_server.replace("/webhooks/rest/webhook", "/webhooks/desk/api")
    session = requests.Session()
    login = session.post(f"{base}/login", json={"username": "wang", "password": staff_password})
    assert login.status_code == 200, login.text
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    before = conversation_ids(endpoints_file)

    answer = session.post(f"{base}/ask", json={"text": "开幕式在哪里"}, headers=csrf)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    assert venue.name("zh") in body["replies"][0]["text"]
    assert body["intent"]["name"] == "ask_venue"
    assert {"entity": "event", "value": "opening_ceremony"} in body["entities"]
    assert {r["key"] for r in body["records"]} >= {"opening_ceremony", venue.key}
    assert all(isinstance(r["confirmed"], bool) and r["source"] for r in body["records"])
    # None while as seeded; after a console edit, who and when (test_console_facts edits one)
    assert all(r["last_updated"] is None or r["last_updated"]["who"] for r in body["records"])

    # asking for a person from the desk queues nobody
    person = session.post(f"{base}/ask", json={"text": "转人工"}, headers=csrf).json()
    assert person["intent"]["name"] == "request_human"
    queued = session.get(f"{base}/handoffs", params={"view": "open"}).json()["handoffs"]
    assert not any(h["conversation_id"].startswith("desk-ask-") for h in queued)
    assert conversation_ids(endpoints_file) == before

    assert session.post(f"{base}/ask", json={"text": "  "}, headers=csrf).status_code == 400
    assert session.post(f"{base}/ask", json={"text": "开幕式"}).status_code == 403  # no CSRF


def test_records_say_who_changed_them_last_in_the_console(tmp_path: Path) -> None:
    from bot import paths
    from bot.db.edits import FactEditor
    from bot.db.seed import load_seed
    from bot.desk.ask import AskResult, with_records

    url = f"sqlite:///{tmp_path / 'event.db'}"
    load_seed(paths.SEED_DIR, url=url)
    db, editor = EventDB(url), FactEditor(url)
    editor.ensure_schema()
    try:
        asked = AskResult(entities=[{"entity": "event", "value": "opening_ceremony"}])
        venue = db.venue_of_event("opening_ceremony")
        assert venue is not None
        before = with_records(asked, db, editor, "开幕式在哪里").records
        assert [r.last_updated for r in before] == [None, None]
        record = editor.record("venue", venue.key)
        editor.update(
            "venue",
            venue.key,
            {"city_en": "Guangzhou City"},
            "zhao",
            expected_revision=record.revision,
        )
        after = {
            r.kind: r.last_updated for r in with_records(asked, db, editor, "开幕式在哪里").records
        }
        assert after["event"] is None
        assert after["venue"] is not None and after["venue"]["who"] == "zhao"
    finally:
        db.dispose()
        editor.dispose()
