"""Practical information (actions/logistics.py), driven by tracker fixtures against a seeded
database of each test's own, so that staff edits (bot.db.edits) can change it.

Expectations come from the database: the records' texts after an edit, the events' titles
and venues' names; the seed itself announces none of these facts.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import common
from actions.fallback import TOPICS
from actions.logistics import TOPIC_OF_INTENT, ActionAnswerLogistics, topic_slot
from bot import paths
from bot.db import EventDB, load_seed
from bot.db.edits import FactEditor
from bot.db.info import LOGISTICS_TOPIC_NAMES

NOT_ANNOUNCED = {"zh": "尚未正式公布", "en": "not officially announced"}
HANDOFF_PAYLOAD = "/request_human"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("logistics") / "event.db"
    load_seed(paths.SEED_DIR, f"sqlite:///{path}")
    return path


@pytest.fixture()
def url(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    path = tmp_path / "event.db"
    shutil.copy(template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    common.event_db.cache_clear()
    yield url
    common.event_db().dispose()
    common.event_db.cache_clear()


@pytest.fixture()
def db(url: str) -> Iterator[EventDB]:
    events = EventDB(url)
    yield events
    events.dispose()


@pytest.fixture()
def editor(url: str) -> Iterator[FactEditor]:
    facts = FactEditor(url)
    yield facts
    facts.dispose()


def tracker(
    text: str,
    intent: str,
    entities: dict[str, str] | None = None,
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
    }
    return Tracker("visitor", slots or {}, latest, events or [], False, None, {}, "action_listen")


def ask(track: Tracker) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerLogistics().run(dispatcher, track, {}))
    text = "\n".join(message.get("text") or "" for message in dispatcher.messages)
    buttons = [b for message in dispatcher.messages for b in message.get("buttons") or []]
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return text, slots, buttons


def slot_set(name: str, value: str) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def announce(editor: FactEditor, key: str, zh: str, en: str, **more: Any) -> None:
    changes = {"text_zh": zh, "text_en": en, "confirmed": True, **more}
    editor.update("logistics", key, changes, "ann")


def week_record(db: EventDB, topic: str) -> str:
    """The key of the whole-week record of `topic`."""
    record = db.logistics(topic)
    assert record is not None and record.event_key is None and record.venue_key is None
    return record.key


# --- nothing announced -------------------------------------------------------------------


@pytest.mark.parametrize("intent", sorted(TOPIC_OF_INTENT))
def test_every_topic_unannounced_says_so_with_a_person_to_ask(intent: str, db: EventDB) -> None:
    topic = TOPIC_OF_INTENT[intent]
    assert db.logistics(topic) is not None and db.logistics(topic).text("zh") is None
    text, slots, buttons = ask(tracker("问一下", intent, slots={"language": "zh"}))
    assert NOT_ANNOUNCED["zh"] in text and "服务台" in text
    assert [b["payload"] for b in buttons] == [HANDOFF_PAYLOAD]
    assert buttons[0]["title"] == TOPICS["request_human"]["zh"]
    assert slots["last_topic"] == topic_slot(topic)


def test_the_unannounced_thing_is_named_as_asked(db: EventDB) -> None:
    expo = db.event("expo")
    text, slots, _ = ask(
        tracker("博览会要门票吗", "ask_admission", {"event": "expo"}, {"language": "zh"})
    )
    assert f"{expo.title('zh')}的{LOGISTICS_TOPIC_NAMES['admission']['zh']}" in text
    assert NOT_ANNOUNCED["zh"] in text and slots["event"] == "expo"
    en, _, buttons = ask(
        tracker("do I need a ticket for the expo", "ask_admission", {"event": "expo"})
    )
    assert expo.title("en") in en and NOT_ANNOUNCED["en"] in en
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en)  # an English answer
    assert buttons[0]["title"] == TOPICS["request_human"]["en"]


def test_a_metro_question_after_the_main_forum_is_about_its_venue(db: EventDB) -> None:
    """The issue's pattern: never the previous topic's (recruitment) fact."""
    venue = db.venue_of_event("main_forum")
    slots = {"language": "zh", "event": "main_forum", "venue": venue.key, "last_topic": "venue"}
    text, _, _ = ask(tracker("能坐地铁去吗", "ask_transport", slots=slots))
    assert venue.name("zh") in text and NOT_ANNOUNCED["zh"] in text
    for key in ("recruitment_audience", "recruitment_jobs", "recruitment_overview"):
        assert db.fact(key).text("zh") not in text


# --- announced by staff: the answer changes at once ------------------------------------


def test_a_text_filled_in_by_staff_is_answered_at_once(editor: FactEditor, db: EventDB) -> None:
    key = week_record(db, "wifi")
    announce(editor, key, "会场提供免费Wi-Fi：CyberWeek-Guest。", "Free Wi-Fi: CyberWeek-Guest.")
    zh, _, buttons = ask(tracker("有wifi吗", "ask_wifi", slots={"language": "zh"}))
    assert db.logistics("wifi").text("zh") in zh and NOT_ANNOUNCED["zh"] not in zh
    assert buttons == []
    en, _, _ = ask(tracker("is there wifi?", "ask_wifi", slots={"language": "en"}))
    assert db.logistics("wifi").text("en") in en


def test_an_unconfirmed_draft_is_never_stated(editor: FactEditor, db: EventDB) -> None:
    key = week_record(db, "parking")
    editor.update("logistics", key, {"text_zh": "地下停车场", "text_en": "Car park"}, "ann")
    text, _, _ = ask(tracker("能停车吗", "ask_parking", slots={"language": "zh"}))
    assert db.logistics("parking").text_zh not in text and NOT_ANNOUNCED["zh"] in text


def test_the_event_record_beats_the_whole_week(editor: FactEditor, db: EventDB) -> None:
    announce(editor, week_record(db, "admission"), "全部活动免费。", "All events are free.")
    announce(editor, "expo_admission", "博览会凭预约码入场。", "Expo entry with a booking code.")
    expo, week = db.logistics("admission", event="expo"), db.logistics("admission")
    text, _, _ = ask(tracker("博览会要门票吗", "ask_admission", {"event": "expo"}))
    assert expo.text("zh") in text and week.text("zh") not in text
    # another event has no record of its own: the whole week's answer holds for it
    text, _, _ = ask(tracker("主论坛要门票吗", "ask_admission", {"event": "main_forum"}))
    assert week.text("zh") in text and expo.text("zh") not in text


def test_an_unannounced_event_record_falls_back_to_an_announced_week(
    editor: FactEditor, db: EventDB
) -> None:
    announce(editor, week_record(db, "opening_hours"), "每天9:00开放。", "Open from 9:00.")
    assert db.logistics("opening_hours", event="expo").text("zh") is None
    text, _, _ = ask(tracker("博览会几点开门", "ask_opening_hours", {"event": "expo"}))
    assert db.logistics("opening_hours").text("zh") in text


def test_a_confirmed_text_with_a_note_adds_the_note(editor: FactEditor, db: EventDB) -> None:
    note = {"note_zh": "节假日时间另行通知。", "note_en": "Holiday hours to follow."}
    announce(editor, "expo_opening_hours", "每天9:00–17:00。", "Daily 9:00–17:00.", **note)
    zh, _, _ = ask(tracker("博览会几点开门", "ask_opening_hours", {"event": "expo"}))
    en, _, _ = ask(
        tracker("expo opening hours", "ask_opening_hours", {"event": "expo"}, {"language": "en"})
    )
    record = db.logistics("opening_hours", event="expo")
    assert record.text("zh") in zh and record.note("zh") in zh
    assert record.text("en") in en and record.note("en") in en


def test_transport_comes_from_the_venue(editor: FactEditor, db: EventDB) -> None:
    venue = db.venue_of_event("expo")
    editor.update(
        "venue",
        venue.key,
        {
            "transport_zh": "地铁4号线南沙客运港站。",
            "transport_en": "Metro line 4, Nansha Passenger Port.",
        },
        "ann",
    )
    text, slots, _ = ask(tracker("博览会怎么去", "ask_transport", {"event": "expo"}))
    assert db.venue(venue.key).transport("zh") in text and venue.name("zh") in text
    assert slots["event"] == "expo"
    text, slots, _ = ask(
        tracker(
            "how do I get to the IFF venue",
            "ask_transport",
            {"venue": venue.key},
            {"language": "en"},
        )
    )
    assert db.venue(venue.key).transport("en") in text and slots["venue"] == venue.key


def test_a_venue_talked_about_after_an_event_is_the_subject(db: EventDB) -> None:
    park = db.venue("jiaomen_park")
    main_venue = db.venue_of_event("main_forum")
    events = [slot_set("event", "main_forum"), slot_set("venue", park.key)]
    slots = {"language": "zh", "event": "main_forum", "venue": park.key}
    text, _, _ = ask(tracker("能停车吗", "ask_parking", slots=slots, events=events))
    assert park.name("zh") in text and main_venue.name("zh") not in text


def test_job_fair_registration_is_the_recruitment_fact(db: EventDB) -> None:
    text, _, _ = ask(tracker("招聘会怎么报名", "ask_registration", {"event": "recruitment"}))
    fact = db.fact("recruitment_apply")
    assert fact.subject("zh") in text or fact.text("zh") in text


def test_a_follow_up_keeps_the_topic_from_the_last_answer(db: EventDB) -> None:
    slots = {"language": "zh", "last_topic": topic_slot("luggage")}
    text, out, _ = ask(tracker("那博览会呢", "inform", {"event": "expo"}, slots))
    assert db.event("expo").title("zh") in text
    assert (
        LOGISTICS_TOPIC_NAMES["luggage"]["zh"] in text and out["last_topic"] == "logistics:luggage"
    )
