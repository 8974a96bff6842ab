"""LanguageTagger: the `language` entity (zh / en) of every message that says which it is.

The reply language follows each message (a visitor who types Chinese at all reads Chinese;
emoji or digits say nothing and keep the language the conversation had). Domain.yml maps the
entity to the `language` slot (`from_entity`), so Rasa fills the slot itself, before the
policies and the responses that are conditioned on it. A custom slot mapping would do the same
through `action_validate_slot_mappings`: one more call to the action server on every message
(docs/benchmarks.md). A button's payload (/ask_venue{...}) is not read by this component; the
widget adds the language its buttons were shown in to the payload (bot/channels/inbound.py).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.lang import LANGUAGE_ENTITY, detect_language, is_language_entity


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageTagger(GraphComponent, EntityExtractorMixin):
    """Adds {"entity": "language", "value": "zh" | "en"} spanning the whole message."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageTagger:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entity = language_entity(message.get(TEXT))
            if entity is not None:
                entities = [e for e in message.get(ENTITIES, []) if not is_language_entity(e)]
                message.set(ENTITIES, [*entities, entity], add_to_output=True)
        return messages


def language_entity(text: Any) -> dict[str, Any] | None:
    """The language entity of `text`, or None when the text names no language."""
    language = detect_language(text) if isinstance(text, str) else None
    if language is None:
        return None
    return {
        ENTITY_ATTRIBUTE_TYPE: LANGUAGE_ENTITY,
        ENTITY_ATTRIBUTE_VALUE: language,
        ENTITY_ATTRIBUTE_START: 0,
        ENTITY_ATTRIBUTE_END: len(text),
        ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
        EXTRACTOR: LanguageTagger.__name__,
    }
