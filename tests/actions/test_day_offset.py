"""A day offset from the NLU or a typed payload never breaks the date arithmetic (issue #15).

`/inform{"day_offset":"999999999"}` after a dated question raised OverflowError in an action:
the visitor got the generic error reply and the log a stack trace. The channels now drop such
an offset (bot/channels/inbound.py); the actions are robust on their own as well, so these
turns carry the entities as Rasa would have passed them unchecked.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from actions import messages
from actions.common import day_offset_days, shifted_date
from bot.db import EventDB
from bot.limits import MAX_DAY_OFFSET
from tests.actions.conversation import Conversation


@pytest.mark.parametrize(
    ("value", "days"),
    [
        ("+1", 1),
        ("-1", -1),
        ("3", 3),
        (f"+{MAX_DAY_OFFSET}", MAX_DAY_OFFSET),
        (f"-{MAX_DAY_OFFSET}", -MAX_DAY_OFFSET),
        (f"{MAX_DAY_OFFSET + 1}", None),
        ("999999999", None),
        ("-999999999", None),
        ("9" * 5000, None),
        ("+-1", None),
        ("1.5", None),
        ("²", None),
        ("", None),
        (None, None),
        (["+1"], None),
    ],
)
def test_day_offset_days(value: object, days: int | None) -> None:
    assert day_offset_days(value) == days


def test_shifted_date_stays_in_range() -> None:
    assert shifted_date(date(2024, 9, 10), "+1") == date(2024, 9, 11)
    assert shifted_date(date(2024, 9, 10), "999999999") is None
    assert shifted_date(date.max, "+1") is None
    assert shifted_date(date.min, "-1") is None


@pytest.mark.parametrize("offset", ["999999999", "-999999999", "+32", "1e9", "二"])
@pytest.mark.parametrize(
    ("question", "intent", "entities"),
    [
        ("9月10日有什么活动", "ask_schedule", {"date": "2024-09-10"}),
        ("what's on September 10?", "ask_schedule", {"date": "2024-09-10"}),
        ("校园日是几号", "ask_theme_day", {"theme_day": "campus_day"}),
        ("主论坛什么时候", "ask_schedule", {"event": "main_forum"}),
    ],
)
def test_a_wild_offset_after_a_dated_question_gets_an_answer_not_an_error(
    db: EventDB,
    caplog: pytest.LogCaptureFixture,
    question: str,
    intent: str,
    entities: dict[str, str],
    offset: str,
) -> None:
    talk = Conversation()
    talk.say(question, intent, entities)
    with caplog.at_level(logging.ERROR):
        reply = talk.say(f'/inform{{"day_offset":"{offset}"}}', "inform", {"day_offset": offset})
    assert reply.text.strip()
    assert reply.text not in messages.INTERNAL_ERROR.values()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def test_the_next_day_still_follows_a_dated_question(db: EventDB) -> None:
    talk = Conversation()
    talk.say("9月10日有什么活动", "ask_schedule", {"date": "2024-09-10"})
    reply = talk.say("第二天呢", "inform", {"day_offset": "+1"})
    next_day = date(2024, 9, 10) + timedelta(days=1)
    assert f"{next_day.month}月{next_day.day}日" in reply.text
