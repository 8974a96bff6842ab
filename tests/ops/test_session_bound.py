"""Bounded conversations (issue #15, item 1): a session ends after MAX_SESSION_TURNS visitor
messages (ops/rasa_entry.py `install_session_turn_bound`), and Rasa's SQL tracker store then
loads only the new session while the stored transcript keeps every one.

Rasa's own MessageProcessor decides, with only its domain set (no model): the bound is asked
through the method Rasa calls before every message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.actions.action import ActionSessionStart
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import paths
from bot.limits import MAX_SESSION_TURNS
from ops.rasa_entry import (
    install_compact_slot_carry_over,
    install_session_turn_bound,
    session_is_full,
)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(paths.DOMAIN_FILE))


@pytest.fixture()
def processor(domain: Domain, monkeypatch: pytest.MonkeyPatch) -> Iterator[MessageProcessor]:
    """Rasa's processor with the bound installed, undone after the test."""
    monkeypatch.setattr(
        MessageProcessor, "_has_session_expired", MessageProcessor._has_session_expired
    )
    install_session_turn_bound()
    processor = MessageProcessor.__new__(MessageProcessor)  # no model: only the domain is read
    processor.domain = domain
    yield processor


def session_start() -> list[object]:
    return [
        ActionExecuted(ACTION_SESSION_START_NAME),
        SessionStarted(),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]


def turns(count: int, start: int = 0) -> list[object]:
    """`count` visitor messages, each answered, all just now (no idle expiry)."""
    events: list[object] = []
    for number in range(start, start + count):
        events += [
            UserUttered(f"问题 {number}", {"name": "ask_schedule", "confidence": 1.0}),
            BotUttered(f"回答 {number}"),
            ActionExecuted(ACTION_LISTEN_NAME),
        ]
    return events


def tracker(domain: Domain, *events: object) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("rest:long", list(events), domain.slots)


def test_the_session_is_full_after_the_bound(domain: Domain, processor: MessageProcessor) -> None:
    almost = tracker(domain, *session_start(), *turns(MAX_SESSION_TURNS - 1))
    full = tracker(domain, *session_start(), *turns(MAX_SESSION_TURNS))
    assert not processor._has_session_expired(almost)
    assert processor._has_session_expired(full)


def test_only_the_latest_session_counts(domain: Domain, processor: MessageProcessor) -> None:
    events = [*session_start(), *turns(MAX_SESSION_TURNS), *session_start(), *turns(3)]
    assert not processor._has_session_expired(tracker(domain, *events))
    assert session_is_full(turns(MAX_SESSION_TURNS))  # a tracker that never started one


def test_a_conversation_staff_have_is_not_cut(domain: Domain, processor: MessageProcessor) -> None:
    """A new session un-pauses: the bot would talk over the staff member."""
    paused = tracker(domain, *session_start(), ConversationPaused(), *turns(MAX_SESSION_TURNS))
    assert paused.is_paused()
    assert not processor._has_session_expired(paused)


def test_rasas_idle_expiry_still_applies(domain: Domain, processor: MessageProcessor) -> None:
    old = UserUttered("hi", {"name": "greet", "confidence": 1.0}, timestamp=time.time() - 2 * 3600)
    assert processor._has_session_expired(tracker(domain, *session_start(), old))


def test_a_new_session_loads_short_and_the_transcript_keeps_everything(
    domain: Domain, tmp_path: Path
) -> None:
    """What the bound buys: after Rasa's session start, the SQL store (ours is a subclass that
    reads alike) loads only the new session, with the slots carried over; the stored
    transcript keeps all of it."""
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "conversations.db"))
    long = tracker(domain, *session_start(), SlotSet("language", "en"), *turns(MAX_SESSION_TURNS))

    async def scenario() -> tuple[DialogueStateTracker, DialogueStateTracker]:
        await store.save(long)
        loaded = await store.retrieve("rest:long")
        assert loaded is not None
        assert sum(isinstance(e, UserUttered) for e in loaded.events) == MAX_SESSION_TURNS
        # what Rasa's processor does when `_has_session_expired` says yes
        loaded.update(ActionExecuted(ACTION_SESSION_START_NAME))
        started = await ActionSessionStart().run(
            CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), loaded, domain
        )
        loaded.update_with_events(started, domain)
        loaded.update_with_events(turns(1, start=MAX_SESSION_TURNS), domain)
        await store.save(loaded)
        current = await store.retrieve("rest:long")
        everything = await store.retrieve_full_tracker("rest:long")
        assert current is not None and everything is not None
        return current, everything

    current, everything = asyncio.run(scenario())
    assert sum(isinstance(e, UserUttered) for e in current.events) == 1
    assert current.get_slot("language") == "en"  # carried over (domain.yml session_config)
    assert sum(isinstance(e, UserUttered) for e in everything.events) == MAX_SESSION_TURNS + 1


def slot_turns(count: int) -> list[object]:
    """`count` turns that each set the same few slots again, as our actions do."""
    events: list[object] = []
    for number in range(count):
        events += [
            UserUttered(f"问题 {number}", {"name": "ask_venue", "confidence": 1.0}),
            SlotSet("language", "zh" if number % 2 else "en"),
            SlotSet("event", f"event_{number}"),
            SlotSet("event", f"event_{number}_again"),
            BotUttered(f"回答 {number}"),
            ActionExecuted(ACTION_LISTEN_NAME),
        ]
    return events


def new_session(domain: Domain, ending: DialogueStateTracker) -> list[object]:
    """The events Rasa's action_session_start adds to `ending`."""
    return asyncio.run(
        ActionSessionStart().run(
            CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), ending, domain
        )
    )


@pytest.fixture()
def compact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        ActionSessionStart,
        "_slot_set_events_from_tracker",
        ActionSessionStart.__dict__["_slot_set_events_from_tracker"],
    )
    install_compact_slot_carry_over()


def test_a_new_session_carries_each_slot_once(domain: Domain, compact: None) -> None:
    """Rasa carried every SlotSet of the ending session (those it had carried included), so
    each session of a long conversation started with its whole slot history."""
    events: list[object] = [*session_start()]
    for _ in range(3):  # three sessions of 20 turns, each started by Rasa's action
        events += slot_turns(20)
        ending = tracker(domain, *events)
        started = new_session(domain, ending)
        events += [ActionExecuted(ACTION_SESSION_START_NAME), *started]
    carried = [e for e in started if isinstance(e, SlotSet)]
    assert sorted(e.key for e in carried) == ["event", "language"]  # Rasa: 60, 120, 180
    assert (
        tracker(domain, *events).get_slot("event") == ending.get_slot("event") == "event_19_again"
    )
    assert tracker(domain, *events).get_slot("language") == ending.get_slot("language") == "zh"
