"""bot.desk.transcript: what staff read of a conversation, and what WeChat still lets them send.

The events are made by Rasa's own event classes and serialised with `as_dict()`, as the console
reads them from the tracker store, so a change in Rasa's serialisation shows up here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    SlotSet,
    UserUttered,
)

from bot.desk.transcript import (
    STAFF_KEY,
    WECHAT_QUOTA,
    WECHAT_WINDOW,
    Entry,
    transcript,
    wechat_allowance,
)

T0 = dt.datetime(2024, 9, 10, 2, 0, tzinfo=dt.timezone.utc)


def at(minutes: float) -> float:
    return (T0 + dt.timedelta(minutes=minutes)).timestamp()


def visitor(text: str, minutes: float, intent: str | None = None, confidence: float = 0.9) -> Any:
    parse_data = {"intent": {"name": intent, "confidence": confidence}} if intent else None
    return UserUttered(text, parse_data=parse_data, timestamp=at(minutes)).as_dict()


def bot(text: str | None, minutes: float, **data: Any) -> Any:
    return BotUttered(text, data=data or None, timestamp=at(minutes)).as_dict()


def staff(text: str, minutes: float, name: str = "小王") -> Any:
    return BotUttered(text, metadata={STAFF_KEY: name}, timestamp=at(minutes)).as_dict()


def entry(kind: str, minutes: float, **fields: Any) -> Entry:
    """An Entry at T0 + minutes, for the WeChat allowance (which only reads kinds and times)."""
    return Entry(kind, fields.pop("text", kind), T0 + dt.timedelta(minutes=minutes), **fields)


def test_each_kind_of_message_becomes_its_entry_and_the_rest_is_left_out() -> None:
    events = [
        ActionExecuted("action_listen", timestamp=at(0)).as_dict(),
        visitor("开幕式在哪", 1, "ask_venue", 0.98765),
        SlotSet("language", "zh", timestamp=at(1)).as_dict(),
        bot("开幕式在…", 2),
        visitor("转人工", 3, "request_human", 0.99),
        ConversationPaused(timestamp=at(4)).as_dict(),
        staff("您好，我是小王", 5),
        ConversationResumed(timestamp=at(6)).as_dict(),
    ]
    entries = transcript(events)
    assert [(e.kind, e.text) for e in entries] == [
        ("visitor", "开幕式在哪"),
        ("bot", "开幕式在…"),
        ("visitor", "转人工"),
        ("system", "handoff"),
        ("staff", "您好，我是小王"),
        ("system", "resumed"),
    ]
    assert entries[0].intent == "ask_venue" and entries[0].confidence == 0.988  # rounded
    assert entries[4].staff == "小王" and entries[1].staff is None
    assert [e.at for e in entries] == [T0 + dt.timedelta(minutes=m) for m in (1, 2, 3, 4, 5, 6)]
    assert all(e.at.tzinfo is not None and e.at.utcoffset() == dt.timedelta(0) for e in entries)


def test_entries_serialise_with_intent_only_for_visitors_and_staff_only_for_staff() -> None:
    visitor_json, bot_json, staff_json = (
        e.as_json()
        for e in transcript(
            [visitor("where?", 1, "ask_venue", 0.5), bot("Here", 2), staff("Hi", 3)]
        )
    )
    assert visitor_json == {
        "kind": "visitor",
        "text": "where?",
        "at": (T0 + dt.timedelta(minutes=1)).isoformat(),
        "intent": "ask_venue",
        "confidence": 0.5,
    }
    assert set(bot_json) == {"kind", "text", "at"}
    assert staff_json["staff"] == "小王" and "intent" not in staff_json


def test_a_message_the_nlu_never_saw_has_no_intent() -> None:
    """A message stored without parse data (e.g. written by a script) still shows, unlabelled."""
    (only,) = transcript([visitor("你好", 1)])
    assert (only.kind, only.intent, only.confidence) == ("visitor", None, None)
    assert "intent" not in only.as_json()


def test_bot_turns_without_text_are_not_shown() -> None:
    """Buttons-only or custom-payload turns (the widget's handoff state) have nothing to read."""
    events = [bot(None, 1, custom={"handoff": {"status": "waiting"}}), bot("", 2), bot("ok", 3)]
    assert [e.text for e in transcript(events)] == ["ok"]


def test_no_visitor_message_means_wechat_allows_nothing() -> None:
    allowance = wechat_allowance([entry("bot", 0)])
    assert (allowance.window_ends_at, allowance.quota_left) == (None, 0)
    assert not allowance.allows(T0)
    assert allowance.as_json() == {"window_ends_at": None, "quota_left": 0}


def test_the_window_runs_from_the_latest_visitor_message_and_ends_exactly() -> None:
    entries = [entry("visitor", 0), entry("bot", 1), entry("visitor", 30), entry("bot", 31)]
    allowance = wechat_allowance(entries)
    ends = T0 + dt.timedelta(minutes=30) + WECHAT_WINDOW
    assert allowance.window_ends_at == ends
    assert allowance.allows(ends - dt.timedelta(microseconds=1))
    assert not allowance.allows(ends)  # WeChat's 48 hours are a hard limit (errcode 45015)
    assert allowance.as_json()["window_ends_at"] == ends.isoformat()


@pytest.mark.parametrize("sent", range(WECHAT_QUOTA + 2))
def test_the_quota_counts_staff_messages_since_the_visitor_last_wrote(sent: int) -> None:
    """Bot messages and staff messages before the visitor's latest message do not count."""
    before = [entry("staff", 0), entry("staff", 1), entry("visitor", 2), entry("bot", 3)]
    entries = before + [entry("staff", 4 + n) for n in range(sent)]
    allowance = wechat_allowance(entries)
    assert allowance.quota_left == max(0, WECHAT_QUOTA - sent)
    assert allowance.allows(T0 + dt.timedelta(minutes=10)) == (sent < WECHAT_QUOTA)


def test_a_new_visitor_message_renews_the_quota() -> None:
    spent = [entry("visitor", 0)] + [entry("staff", 1 + n) for n in range(WECHAT_QUOTA)]
    assert wechat_allowance(spent).quota_left == 0
    renewed = wechat_allowance([*spent, entry("visitor", 20)])
    assert renewed.quota_left == WECHAT_QUOTA
    assert renewed.window_ends_at == T0 + dt.timedelta(minutes=20) + WECHAT_WINDOW
