"""LanguageTagger and domain.yml: every message that says its language sets the `language` slot
in Rasa itself (no action-server call), and one that does not keeps the conversation's."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import paths
from bot.lang import LANGUAGE_ENTITY, is_language_entity
from bot.nlu.language_tagger import LanguageTagger


def _tagged(text: str, entities: list[dict[str, object]] | None = None) -> list[dict[str, object]]:
    message = Message(data={TEXT: text, ENTITIES: entities or []})
    LanguageTagger().process([message])
    return message.get(ENTITIES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("开幕式在哪", "zh"),
        ("開幕式在哪裡", "zh"),
        ("where?", "en"),
        ("opening ceremony在哪", "zh"),
        ("😀", None),
        ("123", None),
        ("", None),
    ],
)
def test_each_message_is_tagged_with_its_language(text: str, expected: str | None) -> None:
    languages = [e["value"] for e in _tagged(text) if is_language_entity(e)]
    assert languages == ([expected] if expected else [])


def test_other_entities_stay_and_the_language_is_not_doubled() -> None:
    event = {"entity": "event", "value": "expo", "start": 0, "end": 3}
    stale = {"entity": LANGUAGE_ENTITY, "value": "zh", "start": 0, "end": 1}
    entities = _tagged("expo hours?", [event, stale])
    assert entities[0] == event
    assert [e["value"] for e in entities if is_language_entity(e)] == ["en"]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(paths.DOMAIN_FILE))


def _slots_after(domain: Domain, previous: str | None, entities: list[dict[str, object]]) -> list:
    events = [ActionExecuted("action_listen"), UserUttered("x", {"name": "greet"}, entities)]
    if previous:
        events.insert(0, SlotSet("language", previous))
    tracker = DialogueStateTracker.from_events("visitor", events, domain.slots)
    action = ActionExtractSlots(action_endpoint=None)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    output = asyncio.run(action.run(CollectingOutputChannel(), nlg, tracker, domain))
    return [(e.key, e.value) for e in output if isinstance(e, SlotSet)]


def test_rasa_fills_the_language_slot_from_the_entity(domain: Domain) -> None:
    entities = _tagged("where is the expo?")
    assert ("language", "en") in _slots_after(domain, "zh", entities)


def test_a_message_without_a_language_keeps_the_conversations(domain: Domain) -> None:
    assert not [s for s in _slots_after(domain, "en", _tagged("😀")) if s[0] == "language"]


def test_the_slot_starts_in_chinese_and_no_action_server_call_sets_it(domain: Domain) -> None:
    assert domain.slots[[s.name for s in domain.slots].index("language")].initial_value == "zh"
    assert "action_validate_slot_mappings" not in domain.user_actions
