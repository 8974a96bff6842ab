"""The conversation so far, read from the tracker's events: what was asked, what was answered.

Follow-ups lean on earlier turns: "那2023年呢" asks the previous question again for 2023,
"in English please" answers it again, "确定吗？" checks it, "几号？" asks when about what the
last answer was about. The tracker's events are the record: every user event carries its parse
data (intent, entities), every answer its SlotSet events. A question is replayed with the slots
it was asked with, so "第二天呢" means the day after the date it followed, not the date the
conversation has moved on to since. Nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.interfaces import ACTION_LISTEN_NAME

from bot.lang import visitor_entities

# Turns that say nothing about which question is meant: the question before them is.
PASS_THROUGH_INTENTS = frozenset({"switch_language", "ask_confirm", "greet", "thank"})
OTHER_ONE_INTENT = "ask_other_one"
FOLLOW_UP_INTENT = "inform"
YEAR = "year"
# What an answer leaves behind about what it was about (the slots actions set).
SUBJECT_SLOTS = ("event", "venue", "theme_day", "forum_topic", "date", "last_topic")
# The entities "the other one" may swap.
SWAPPABLE = ("theme_day", "forum_topic", "event", "venue")

Event = dict[str, Any]


@dataclass(frozen=True)
class Question:
    """A question as it was asked: its parse data, the slots then, the events up to it."""

    message: dict[str, Any]
    slots: dict[str, Any]
    events: tuple[Event, ...]  # up to and including its own user event

    @property
    def intent(self) -> str:
        return str((self.message.get("intent") or {}).get("name") or "")

    def values(self, entity: str) -> list[str]:
        """The distinct values of `entity` in the question, in order."""
        found: list[str] = []
        for item in self.message.get("entities") or []:
            value = item.get("value")
            if item.get("entity") == entity and value not in (None, "") and str(value) not in found:
                found.append(str(value))
        return found

    def with_values(self, entity: str, values: Sequence[str]) -> Question:
        """The same question about other values of `entity` ("那2023年呢", "the other one")."""
        kept = [e for e in self.message.get("entities") or [] if e.get("entity") != entity]
        added = [{"entity": entity, "value": value} for value in values]
        return Question({**self.message, "entities": kept + added}, self.slots, self.events)

    def with_intent(self, intent: str, entities: dict[str, str]) -> Question:
        """Another question in the same place of the conversation ("几号？" -> when is X)."""
        message = {
            **self.message,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": [{"entity": k, "value": v} for k, v in entities.items()],
        }
        return Question(message, self.slots, self.events)

    def tracker(self, sender_id: str) -> Tracker:
        """A tracker as it was when the question was asked."""
        return Tracker(
            sender_id,
            dict(self.slots),
            self.message,
            list(self.events),
            False,
            None,
            {},
            ACTION_LISTEN_NAME,
        )


def current_question(tracker: Tracker) -> Question:
    """The latest message as a Question (to rewrite it, e.g. a bare "几号？")."""
    return Question(dict(tracker.latest_message or {}), dict(tracker.slots), tuple(tracker.events))


def user_turns(events: Sequence[Event]) -> list[int]:
    """Indices of the user events still in force: a "rewind" (UserUtteranceReverted, e.g. the
    fallback's) takes back the user message before it."""
    turns: list[int] = []
    for index, event in enumerate(events):
        if event.get("event") == "user":
            turns.append(index)
        elif event.get("event") == "rewind" and turns:
            turns.pop()
    return turns


def message_of(event: Event) -> dict[str, Any]:
    """A user event's parse data, in the shape of `tracker.latest_message`."""
    parsed = event.get("parse_data") or {}
    return {
        "text": event.get("text") or parsed.get("text") or "",
        "intent": parsed.get("intent") or {},
        "entities": parsed.get("entities") or [],
    }


def slots_before(events: Sequence[Event], index: int) -> dict[str, Any]:
    """The slots as they were just before events[index] (SlotSet events replayed)."""
    slots: dict[str, Any] = {}
    for event in events[:index]:
        kind = event.get("event")
        if kind == "slot":
            slots[str(event.get("name"))] = event.get("value")
        elif kind in ("restart", "reset_slots"):
            slots.clear()
    return slots


def slots_set_after(events: Sequence[Event], index: int) -> dict[str, Any]:
    """What the answer to the user event at `index` set (up to the next user event)."""
    found: dict[str, Any] = {}
    for event in events[index + 1 :]:
        if event.get("event") == "user":
            break
        if event.get("event") == "slot":
            found[str(event.get("name"))] = event.get("value")
    return found


def _earlier_turns(tracker: Tracker) -> list[int]:
    """The user turns before the latest message (which the tracker's events already hold)."""
    events = tracker.events or []
    turns = user_turns(events)
    if turns and _is_latest(events[turns[-1]], tracker.latest_message or {}):
        turns = turns[:-1]
    return turns


def _is_latest(event: Event, latest: dict[str, Any]) -> bool:
    if event.get("message_id") and latest.get("message_id"):
        return event["message_id"] == latest["message_id"]
    return (event.get("text") or "") == (latest.get("text") or "")


def last_answer_context(tracker: Tracker) -> dict[str, Any]:
    """The subject slots the answer to the previous message set: what it was about."""
    turns = _earlier_turns(tracker)
    if not turns:
        return {}
    found = slots_set_after(tracker.events, turns[-1])
    return {name: value for name, value in found.items() if name in SUBJECT_SLOTS}


def is_year_only(message: dict[str, Any]) -> bool:
    """A follow-up that names a year and nothing else ("那2023年呢")."""
    entities = visitor_entities(message.get("entities"))
    return bool(entities) and all(e.get("entity") == YEAR for e in entities)


def last_question(tracker: Tracker, answerable: Collection[str]) -> Question | None:
    """The question the visitor last had answered, as it was asked.

    `answerable`: the intents a capability answers. A year-only follow-up is the question
    before it for that year; "the other one" is the question before it with the value its
    answer swapped in; language switches, "sure?" and thanks are skipped. None when the last
    turn was not a question (out of scope, a misunderstanding, a handoff) or there is none.
    """
    return _resolve(tracker.events or [], _earlier_turns(tracker), answerable)


def _resolve(
    events: Sequence[Event], turns: list[int], answerable: Collection[str]
) -> Question | None:
    for position in range(len(turns) - 1, -1, -1):
        index = turns[position]
        message = message_of(events[index])
        intent = str(message["intent"].get("name") or "")
        if intent in PASS_THROUGH_INTENTS:
            continue
        if intent == FOLLOW_UP_INTENT and is_year_only(message):
            base = _resolve(events, turns[:position], answerable)
            years = Question(message, {}, ()).values(YEAR)
            return base.with_values(YEAR, years) if base else None
        if intent == OTHER_ONE_INTENT:
            base = _resolve(events, turns[:position], answerable)
            return _as_answered(base, slots_set_after(events, index)) if base else None
        if intent in answerable:
            return Question(message, slots_before(events, index), tuple(events[: index + 1]))
        return None
    return None


def _as_answered(base: Question, answered: dict[str, Any]) -> Question:
    """`base` with the value the "other one" answer moved to (its slots say which)."""
    for entity in SWAPPABLE:
        values, moved_to = base.values(entity), answered.get(entity)
        if values and moved_to and moved_to != values[0]:
            return base.with_values(entity, [str(moved_to)])
    return base
