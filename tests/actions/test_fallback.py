"""Graceful misunderstanding (actions/fallback.py + the TwoStageFallback rule in data/rules).

Unit tests drive the affirmation action with a tracker; the REST tests go through a running
assistant, using intent payloads (/nlu_fallback, /ask_venue{...}) so that they test the
dialogue, not what the NLU model happens to be unsure of.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import (
    MAIN_TOPICS,
    REPHRASE,
    SOMETHING_ELSE,
    STILL_UNCLEAR,
    TOPICS,
    ActionAskAffirmation,
    ActionAskRephrase,
    likeliest_topics,
    payload,
)
from bot.db import EventDB
from bot.db.desk import DeskStore
from tests.desk_client import rest_conversation

STAFF_BUTTON = {
    "zh": {"title": "人工服务", "payload": "/request_human"},
    "en": {"title": "Talk to staff", "payload": "/request_human"},
}


def ranking(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def affirmation(
    ranked: list[dict[str, Any]], language: str, entities: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    latest = {
        "text": "…",
        "intent": {"name": "nlu_fallback", "confidence": 0.45},
        "intent_ranking": ranked,
        "entities": entities or [],
    }
    tracker = Tracker("v", {"language": language}, latest, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAskAffirmation().run(dispatcher, tracker, {}))
    (message,) = dispatcher.messages
    return message


def test_the_likeliest_topics_are_offered_best_first() -> None:
    ranked = ranking(
        ("nlu_fallback", 0.45),
        ("ask_venue", 0.40),
        ("out_of_scope", 0.30),  # never offered: it is not a topic
        ("ask_schedule", 0.20),
        ("ask_expo_dates", 0.15),
        ("ask_theme_day", 0.12),
    )
    assert likeliest_topics(ranked) == ["ask_venue", "ask_schedule", "ask_expo_dates"]


def test_a_third_topic_only_when_it_is_a_real_candidate() -> None:
    ranked = ranking(
        ("nlu_fallback", 0.45),
        ("ask_venue", 0.4),
        ("greet", 0.3),
        ("ask_schedule", 0.05),
        ("ask_theme_day", 0.04),
    )
    assert likeliest_topics(ranked) == ["ask_venue", "ask_schedule"]


def test_buttons_in_the_visitors_language_carry_the_entities() -> None:
    ranked = ranking(("nlu_fallback", 0.45), ("ask_venue", 0.4), ("ask_schedule", 0.35))
    event = [{"entity": "event", "value": "opening_ceremony"}]
    zh = affirmation(ranked, "zh", event)
    assert [b["title"] for b in zh["buttons"]] == [
        TOPICS["ask_venue"]["zh"],
        TOPICS["ask_schedule"]["zh"],
        SOMETHING_ELSE["zh"],
        STAFF_BUTTON["zh"]["title"],
    ]
    assert zh["buttons"][0]["payload"] == '/ask_venue{"event": "opening_ceremony"}'
    assert zh["buttons"][-2]["payload"] == "/out_of_scope"  # Rasa's "no" in the loop
    assert zh["buttons"][-1] == STAFF_BUTTON["zh"]  # a person is always on offer
    en = affirmation(ranked, "en")
    assert [b["title"] for b in en["buttons"]][:2] == ["Venues", "Schedule"]
    assert en["buttons"][-1] == STAFF_BUTTON["en"]


def test_nothing_likely_offers_the_main_topics_and_staff() -> None:
    message = affirmation(ranking(("nlu_fallback", 1.0)), "en")
    assert message["buttons"] == [
        *({"title": t["en"], "payload": f"/{intent}"} for intent, t in MAIN_TOPICS),
        STAFF_BUTTON["en"],
    ]


def test_staff_is_offered_once_when_it_is_a_likely_topic() -> None:
    """The visitor may have half-asked for a person: the topic button is that offer."""
    ranked = ranking(("nlu_fallback", 0.45), ("request_human", 0.4), ("ask_venue", 0.3))
    buttons = affirmation(ranked, "zh")["buttons"]
    assert [b["payload"] for b in buttons].count("/request_human") == 1
    assert buttons[0] == STAFF_BUTTON["zh"]


def test_asking_to_rephrase_also_offers_staff() -> None:
    tracker = Tracker("v", {"language": "en"}, {"text": "/out_of_scope"}, [], False, None, {}, "")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAskRephrase().run(dispatcher, tracker, {}))
    (message,) = dispatcher.messages
    assert message["text"] == REPHRASE["en"] and message["buttons"] == [STAFF_BUTTON["en"]]


def test_payload_keeps_one_value_per_entity() -> None:
    entities = [
        {"entity": "date", "value": "2024-09-11"},
        {"entity": "date", "value": "2024-09-12"},
        {"entity": "language", "value": "zh"},  # not an entity of the domain
    ]
    assert payload("ask_schedule", entities) == '/ask_schedule{"date": "2024-09-11"}'
    assert payload("ask_schedule", []) == "/ask_schedule"


# ---------------------------------------------------------------- through a running assistant
def say(webhook: str, sender: str, message: str) -> list[dict[str, Any]]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(
        webhook, data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def text_of(replies: list[dict[str, Any]]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)


def test_first_miss_asks_back_with_buttons_in_chinese(rasa_server: str) -> None:
    sender = uuid.uuid4().hex
    say(rasa_server, sender, "你好")
    replies = say(rasa_server, sender, "/nlu_fallback")
    buttons = [b for reply in replies for b in reply.get("buttons") or []]
    assert [b["title"] for b in buttons] == [t["zh"] for _, t in MAIN_TOPICS] + ["人工服务"]
    assert buttons[-1]["payload"] == "/request_human"


def test_a_chosen_topic_is_answered_with_what_was_understood(
    rasa_server: str, seeded_db_url: str
) -> None:
    venue = EventDB(seeded_db_url).venue_of_event("opening_ceremony")
    assert venue is not None
    sender = uuid.uuid4().hex
    say(rasa_server, sender, "你好")
    say(rasa_server, sender, "/nlu_fallback")
    answer = say(rasa_server, sender, '/ask_venue{"event": "opening_ceremony"}')
    assert venue.name("zh") in text_of(answer)  # and in Chinese: a payload keeps the language


def leave_queue(desk: DeskStore, sender: str) -> None:
    """Closes what a test queued, so the shared desk's queue holds only live tests' visitors."""
    queued = desk.active_handoff(rest_conversation(sender))
    if queued is not None:
        desk.close(queued.id, None, "left")


def test_second_miss_hands_over_to_staff(rasa_server: str, desk_store: DeskStore) -> None:
    sender = uuid.uuid4().hex
    say(rasa_server, sender, "hello")
    say(rasa_server, sender, "/nlu_fallback")
    replies = say(rasa_server, sender, "/nlu_fallback")
    try:
        queued = desk_store.active_handoff(rest_conversation(sender))
        assert queued is not None
        assert (queued.reason, queued.language, queued.channel) == ("fallback", "en", "rest")
        assert replies[0]["text"] == STILL_UNCLEAR["en"]
        position = f"number {desk_store.queue_position(queued.id)}"
        assert position in text_of(replies[1:]), replies
        assert {"handoff": {"status": "waiting"}} in [r.get("custom") for r in replies]
        assert say(rasa_server, sender, "hello?") == []  # paused: staff answer now
    finally:
        leave_queue(desk_store, sender)


def test_the_staff_button_hands_over_at_once(rasa_server: str, desk_store: DeskStore) -> None:
    sender = uuid.uuid4().hex
    say(rasa_server, sender, "你好")
    say(rasa_server, sender, "/nlu_fallback")
    replies = say(rasa_server, sender, "/request_human")
    try:
        queued = desk_store.active_handoff(rest_conversation(sender))
        assert queued is not None and (queued.reason, queued.language) == ("button", "zh")
        assert f"第 {desk_store.queue_position(queued.id)} 位" in text_of(replies)
    finally:
        leave_queue(desk_store, sender)


def test_something_else_asks_to_rephrase_then_a_question_is_answered(
    rasa_server: str, seeded_db_url: str
) -> None:
    sender = uuid.uuid4().hex
    say(rasa_server, sender, "你好")
    say(rasa_server, sender, "/nlu_fallback")
    assert text_of(say(rasa_server, sender, "/out_of_scope")) == REPHRASE["zh"]
    tomorrow = EventDB(seeded_db_url).theme_day("telecom_day")
    assert tomorrow is not None
    assert tomorrow.name("zh") in text_of(say(rasa_server, sender, "明天是什么主题日"))
