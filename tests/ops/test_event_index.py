"""Rasa's event classes found by type name through an index (ops/event_index.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.utils.common import all_subclasses

from ops.event_index import install_event_type_index
from tests.ops.rasa_functions import restore_rasa_speedups

RASA_RESOLVE = Event.__dict__["resolve_by_type"].__func__


@pytest.fixture()
def indexed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    restore_rasa_speedups(monkeypatch)
    install_event_type_index()
    yield


def test_every_event_type_resolves_to_rasas_class(indexed: None) -> None:
    names = {subclass.type_name for subclass in all_subclasses(Event)}
    assert len(names) > 20
    for name in sorted(names) * 2:  # the first round fills the index, the second reads it
        assert Event.resolve_by_type(name) is RASA_RESOLVE(name)


def test_names_no_class_has_get_rasas_answers(indexed: None) -> None:
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_a_class_defined_later_is_found_as_rasa_finds_it(indexed: None) -> None:
    assert Event.resolve_by_type("pause") is ConversationPaused  # a grandchild of Event
    _check_late_classes()
    gc.collect()  # the test's classes gone: the rest of the session sees Rasa's own
    assert RASA_RESOLVE("pause") is ConversationPaused
    assert Event.resolve_by_type("pause") is ConversationPaused


def _check_late_classes() -> None:
    class LateEvent(SlotSet):  # concrete (Rasa's walk leaves out abstract classes)
        type_name = "cyberweek_late_event"

    class LatePause(Event):  # a child: Rasa's walk (children first) now finds it first
        type_name = "pause"

        def as_story_string(self) -> str:
            return ""

        def __eq__(self, other: Any) -> bool:
            return isinstance(other, LatePause)

    assert RASA_RESOLVE("pause") is LatePause
    assert Event.resolve_by_type("pause") is LatePause  # before any name misses the index
    assert Event.resolve_by_type("cyberweek_late_event") is LateEvent


def test_stored_events_are_read_back_as_rasa_reads_them(indexed: None) -> None:
    events: list[Any] = [
        UserUttered("开幕式在哪里", {"name": "ask_venue", "confidence": 0.9}),
        SlotSet("language", "zh"),
        ActionExecuted("action_answer_venue"),
    ]
    dumped = [event.as_dict() for event in events]
    assert [Event.from_parameters(d) for d in dumped] == events


def test_install_is_idempotent(indexed: None) -> None:
    resolve = Event.__dict__["resolve_by_type"]
    install_event_type_index()
    assert Event.__dict__["resolve_by_type"] is resolve
