"""The issue's acceptance questions, asked over POST /webhooks/rest/webhook of a running bot.

Expected facts are read from the seeded database, so the test checks that the answer carries
what the database holds (not a string copied from the reply).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import date

import pytest

from actions.messages import INTERNAL_ERROR
from bot.db import EventDB
from bot.limits import MAX_MESSAGE_CHARS
from tests.bot.db.rows import snapshot


def post_raw(webhook: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        webhook, data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, {"replies": json.loads(response.read())}
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def ask(webhook: str, message: str, sender: str | None = None) -> str:
    body = json.dumps({"sender": sender or uuid.uuid4().hex, "message": message}).encode()
    status, payload = post_raw(webhook, body)
    assert status == 200, payload
    return "\n".join(reply.get("text", "") for reply in payload["replies"])


@pytest.fixture(scope="module")
def db(seeded_db_url: str) -> EventDB:
    return EventDB(seeded_db_url)


def test_opening_ceremony_venue_in_chinese(rasa_server: str, db: EventDB) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    reply = ask(rasa_server, "开幕式在哪里举行")
    assert venue.name("zh") in reply


def test_opening_ceremony_venue_in_english(rasa_server: str, db: EventDB) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    reply = ask(rasa_server, "Where is the opening ceremony?")
    assert venue.name("en") in reply
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in reply), reply


def test_tomorrows_theme_day_follows_the_fixed_clock(rasa_server: str, db: EventDB) -> None:
    tomorrow = db.theme_day_on(date(2024, 9, 11))
    assert tomorrow is not None and tomorrow.date_confirmed
    assert tomorrow.name("zh") in ask(rasa_server, "明天是什么主题日")


def test_sub_forums_are_listed(rasa_server: str, db: EventDB) -> None:
    reply = ask(rasa_server, "有哪些分论坛")
    for sub_forum in db.sub_forums():
        assert sub_forum.title("zh") in reply


def test_recruitment_jobs(rasa_server: str, db: EventDB) -> None:
    jobs = db.fact("recruitment_jobs")
    assert jobs is not None and jobs.confirmed
    assert "数万" in ask(rasa_server, "招聘会提供多少岗位")


def test_finance_day_is_reported_unconfirmed(rasa_server: str, db: EventDB) -> None:
    finance_day = db.theme_day("finance_day")
    assert finance_day is not None and not finance_day.date_confirmed
    reply = ask(rasa_server, "金融日是哪天")
    assert "尚未" in reply
    assert "13" not in reply  # the inferred date is never stated


def test_weather_gets_a_polite_scope_reply(rasa_server: str) -> None:
    reply = ask(rasa_server, "今天广州天气怎么样")
    assert "网络安全宣传周" in reply
    assert "°" not in reply and "晴" not in reply


def _titles_on(db: EventDB, day: date, lang: str) -> set[str]:
    return {event.title(lang) for event in db.events_on(day)}


def test_follow_up_another_theme_day(rasa_server: str, db: EventDB) -> None:
    sender = uuid.uuid4().hex
    ask(rasa_server, "校园日是几号", sender)
    telecom_day = db.theme_day("telecom_day")
    assert telecom_day is not None and telecom_day.date_confirmed
    assert telecom_day.name("zh") in ask(rasa_server, "那电信日呢", sender)


def test_follow_up_where_after_when(rasa_server: str, db: EventDB) -> None:
    sender = uuid.uuid4().hex
    ask(rasa_server, "主论坛什么时候", sender)
    venue = db.venue_of_event("main_forum")
    assert venue is not None
    assert venue.name("zh") in ask(rasa_server, "在哪里", sender)


def test_follow_up_what_about_friday(rasa_server: str, db: EventDB) -> None:
    sender = uuid.uuid4().hex
    ask(rasa_server, "what's on Thursday?", sender)
    friday_only = _titles_on(db, date(2024, 9, 13), "en")
    thursday_only = _titles_on(db, date(2024, 9, 12), "en") - friday_only
    assert friday_only and thursday_only
    reply = ask(rasa_server, "what about Friday?", sender)
    assert all(title in reply for title in friday_only), reply
    assert not any(title in reply for title in thursday_only), reply


def test_follow_up_the_day_after(rasa_server: str, db: EventDB) -> None:
    sender = uuid.uuid4().hex
    ask(rasa_server, "What's on September 10?", sender)
    new_next_day = _titles_on(db, date(2024, 9, 11), "en") - _titles_on(db, date(2024, 9, 10), "en")
    assert new_next_day
    reply = ask(rasa_server, "and the day after?", sender)
    assert all(title in reply for title in new_next_day), reply


def test_follow_up_keeps_context_per_sender(rasa_server: str, db: EventDB) -> None:
    sender = uuid.uuid4().hex
    ask(rasa_server, "明天是什么主题日", sender)
    day_after = db.theme_day_on(date(2024, 9, 12))
    assert day_after is not None
    assert day_after.name("zh") in ask(rasa_server, "后天呢", sender)


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   \t\n ",
        "😀😀😀",
        "开幕式" * 666 + "开幕",  # MAX_MESSAGE_CHARS, the longest REST takes
        "\x00\x07\x1b[31m开幕式\x7f",
        "'; DROP TABLE events; --",
        "1 OR 1=1; SELECT * FROM facts",
        "<script>alert(1)</script>",
    ],
    ids=[
        "empty",
        "whitespace",
        "emoji",
        "2k-chars",
        "control-chars",
        "sql-drop",
        "sql-or",
        "html",
    ],
)
def test_hostile_input_gets_a_reply_and_leaves_the_database_alone(
    rasa_server: str, seeded_db_url: str, message: str
) -> None:
    before = snapshot(seeded_db_url)
    reply = ask(rasa_server, message)
    assert reply.strip(), f"no reply to {message[:40]!r}"
    assert snapshot(seeded_db_url) == before


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'["message", "hi"]',
        b'"hi"',
        b"{}",
        b'{"message": "hi"}',
        b'{"sender": null, "message": "hi"}',
        b'{"sender": "a", "message": 42}',
        b'{"sender": "a", "message": null}',
        b'{"sender": {"id": 1}, "message": "hi"}',
        b'{"sender": "", "message": "hi"}',
        b'{"sender": "a", "message": "hi", "metadata": [1]}',
        json.dumps({"sender": "a", "message": "x" * (MAX_MESSAGE_CHARS + 1)}).encode(),
    ],
    ids=[
        "not-json",
        "list",
        "list-of-strings",
        "string",
        "no-message",
        "no-sender",
        "null-sender",
        "number-message",
        "null-message",
        "object-sender",
        "empty-sender",
        "list-metadata",
        "over-max-message",
    ],
)
def test_malformed_rest_body_gets_a_400_that_says_why(rasa_server: str, body: bytes) -> None:
    status, payload = post_raw(rasa_server, body)
    assert status == 400, payload
    assert payload.get("error"), payload


def test_well_formed_rest_body_still_answered(rasa_server: str) -> None:
    body = {"sender": uuid.uuid4().hex, "message": "hi", "metadata": {"language": "en"}}
    status, payload = post_raw(rasa_server, json.dumps(body).encode())
    assert status == 200 and payload["replies"], payload


def test_a_typed_huge_day_offset_after_a_dated_question_is_answered(rasa_server: str) -> None:
    """Issue #15: /inform{"day_offset":"999999999"} raised OverflowError in an action."""
    sender = uuid.uuid4().hex
    ask(rasa_server, "9月10日有什么活动", sender)
    reply = ask(rasa_server, '/inform{"day_offset":"999999999"}', sender)
    assert reply.strip() and INTERNAL_ERROR["zh"] not in reply
