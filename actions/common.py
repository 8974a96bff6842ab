"""What every answering action shares: language, entities/slots, the database, error handling.

Each capability module subclasses `DatabaseAction` and implements `answer()`, a plain
function of a `Request` that returns an `Answer`; `run()` here does the rest, so that the
follow-up action can reuse any capability's `answer()` unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ACTION_LISTEN_NAME

from actions import messages
from bot.db import DatabaseNotReady, EventDB
from bot.db.kept_reads import KEEP_ANSWERS_ENV
from bot.lang import Lang, as_lang, language_of
from bot.limits import day_offset_days

logger = logging.getLogger(__name__)


def conversation_language(tracker: Tracker) -> Lang:
    """The `language` slot, else the language of the latest message."""
    return as_lang(tracker.get_slot("language")) or language_of(
        tracker.latest_message.get("text") or ""
    )


@lru_cache(maxsize=1)
def event_db() -> EventDB:
    """One EventDB (one engine and connection pool) per action-server process; its answers are
    kept between turns when `KEEP_ANSWERS_ENV` is "1" (the action server sets it,
    ops/action_entry.py; tests that change the database under the actions leave it unset)."""
    return EventDB(keep_answers=os.environ.get(KEEP_ANSWERS_ENV) == "1")


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The value of `entity` in the latest user message (not an older slot value)."""
    for found in tracker.latest_message.get("entities") or []:
        if found.get("entity") == entity and found.get("value") not in (None, ""):
            return str(found["value"])
    return None


def parse_iso_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def shifted_date(day: date, offset: Any) -> date | None:
    """`day` moved by a `day_offset` entity; None for an offset out of range or past date.max."""
    days = day_offset_days(offset)
    if days is None:
        return None
    try:
        return day + timedelta(days=days)
    except OverflowError:  # within a month of date.min / date.max
        return None


@dataclass(frozen=True)
class Request:
    """What an action needs to answer: the language, the tracker and the database."""

    lang: Lang
    tracker: Tracker
    db: EventDB

    @property
    def intent(self) -> str:
        return (self.tracker.latest_message.get("intent") or {}).get("name") or ""

    def entity(self, name: str) -> str | None:
        return latest_entity(self.tracker, name)

    def entity_or_slot(self, name: str) -> str | None:
        return self.entity(name) or self.tracker.get_slot(name)

    def asked_date(self) -> date | None:
        """The date the latest message is about.

        An explicit date wins; "the next day / 第二天" (a day_offset) counts from the date
        already in the conversation.
        """
        explicit = parse_iso_date(self.entity("date"))
        if explicit:
            return explicit
        offset = self.entity("day_offset")
        previous = parse_iso_date(self.tracker.get_slot("date"))
        if offset and previous:
            return shifted_date(previous, offset)
        return None


@dataclass
class Answer:
    text: str
    topic: str
    slots: dict[str, Any] = field(default_factory=dict)
    buttons: list[dict[str, str]] = field(default_factory=list)

    def events(self) -> list[EventType]:
        values = {**self.slots, "last_topic": self.topic}
        return [SlotSet(name, value) for name, value in values.items()]


def ending_the_turn(events: list[EventType]) -> list[EventType]:
    """An answer (or its apology) ends the bot's turn: every rule and story listens after one
    (tests/actions/test_follow_ups.py checks the data), and with FollowupAction Rasa predicts that without
    running its policies a second time in the turn (#14)."""
    return [*events, FollowupAction(ACTION_LISTEN_NAME)]


class DatabaseAction(Action):
    """Base of every answering action: builds the Request, never lets an error escape."""

    action_name: str = ""
    # False for actions that read the conversation themselves (actions/about_last.py).
    reads_context: bool = True

    def name(self) -> str:
        return self.action_name

    def answer(self, request: Request) -> Answer:
        raise NotImplementedError

    def answer_in_context(self, request: Request) -> Answer:
        """`answer()`, unless the conversation decides: another edition's year, "那2023年呢",
        a bare "几号？" about the last answer (actions/context.py)."""
        if not self.reads_context:
            return self.answer(request)
        # imported here: actions.context reaches every capability, and they all import this module
        from actions.context import answer_in_context

        return answer_in_context(self.answer, request)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = conversation_language(tracker)
        try:
            request = Request(lang=lang, tracker=tracker, db=event_db().for_turn())
            # Queries are synchronous SQLAlchemy: keep them off the action server's event loop.
            answer = await asyncio.to_thread(self.answer_in_context, request)
        except DatabaseNotReady:
            logger.exception("event database not ready")
            dispatcher.utter_message(text=messages.DATABASE_UNAVAILABLE[lang])
            return ending_the_turn([])
        except Exception:  # an answer must always come back, whatever went wrong
            logger.exception("action %s failed", self.name())
            dispatcher.utter_message(text=messages.INTERNAL_ERROR[lang])
            return ending_the_turn([])
        dispatcher.utter_message(text=answer.text, buttons=answer.buttons or None)
        return ending_the_turn(answer.events())
