"""TextNormalizer: the first component of the NLU pipeline, in training and at inference.

Visitors type Traditional Chinese and Cantonese (Hong Kong, Macao, Taiwan), full-width digits
from Chinese input methods, pasted text with HTML, zero-width characters and emoji, "？？？！！！",
and paragraphs of context around one question.
The training data is Simplified, so without this step 開幕式在哪裡 and 开幕式在哪里 would be
different words to the featurizers. It replaces the message TEXT, so every later component
(tokenizer, DIET, DateExtractor, DatabaseGazetteer) reports entity offsets into the
normalised text; entity annotations of training examples are moved along with it.

The tracker keeps what the visitor wrote: Rasa 3.6's MessageProcessor stores
`UserUttered(message.text, …)` — the channel's UserMessage text — and puts the parsed (normalised)
TEXT only into parse_data (rasa/core/processor.py, `_handle_message_with_tracker`);
tests/bot/nlu/test_tracker_text.py runs that code with this component in place of the graph.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.text import Normalized, normalize

logger = logging.getLogger(__name__)

INTENT_PREFIX = "/"  # button payloads such as /ask_schedule{"date": "2024-09-10"}


# The recipe only runs tokenizers and featurizers in both the training graph
# (process_training_data) and the inference graph (process), in config order; registering as a
# tokenizer type puts this component there. It does not subclass Tokenizer, so Rasa's
# "only one tokenizer" check is not affected.
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class TextNormalizer(GraphComponent):
    """Markup and emoji out, Traditional->Simplified, Cantonese->Mandarin, punctuation folded,
    whitespace collapsed, the question of a long message kept, length capped."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """max_length: characters kept of a message (longer input is untrusted and cut).
        focus_over: a message longer than this many units (a Chinese character 1, a Latin word
        2; docs/decisions.md) is reduced to its question; 0 keeps every message whole."""
        return {"max_length": 500, "focus_over": 40}

    def __init__(self, config: dict[str, Any]) -> None:
        """Keeps the validated config."""
        self._config = {**self.get_default_config(), **config}
        self._max_length = int(self._config["max_length"])
        if self._max_length < 1:
            raise ValueError(f"TextNormalizer max_length must be >= 1, got {self._max_length}")
        self._focus_over = int(self._config["focus_over"])
        if self._focus_over < 0:
            raise ValueError(f"TextNormalizer focus_over must be >= 0, got {self._focus_over}")

    @staticmethod
    def required_packages() -> list[str]:
        """OpenCC does the Traditional->Simplified conversion."""
        return ["opencc"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormalizer:
        """Creates the component; it has nothing to train or persist."""
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalises every training example so the model learns what it will be shown."""
        for example in training_data.training_examples:
            self._normalize_message(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Normalises incoming messages before tokenization."""
        for message in messages:
            self._normalize_message(message)
        return messages

    def _normalize_message(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text:
            return
        if text.lstrip().startswith(INTENT_PREFIX):
            # Parsed later by RegexMessageHandler: converting the JSON inside would change
            # entity values; only the length is capped.
            if len(text) > self._max_length:
                message.set(TEXT, text[: self._max_length])
            return
        normalized = normalize(text, self._max_length, self._focus_over)
        if normalized.text == text:
            return
        message.set(TEXT, normalized.text)
        entities = message.get(ENTITIES)
        if entities:
            message.set(ENTITIES, moved_entities(entities, text, normalized))


def moved_entities(
    entities: list[dict[str, Any]], original: str, normalized: Normalized
) -> list[dict[str, Any]]:
    """Entity annotations re-pointed at the normalised text; ones that were cut off vanish.

    A value that was just the annotated text (no explicit synonym value) follows the text,
    so 開幕式 annotated without a value becomes 开幕式.
    """
    moved = []
    for entity in entities:
        start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
        if not isinstance(start, int) or not isinstance(end, int):
            moved.append(entity)
            continue
        span = normalized.map_span(start, end)
        if span is None:
            logger.debug("Entity %s dropped: its text did not survive normalisation", entity)
            continue
        new_entity = {**entity, ENTITY_ATTRIBUTE_START: span[0], ENTITY_ATTRIBUTE_END: span[1]}
        if entity.get(ENTITY_ATTRIBUTE_VALUE) == original[start:end]:
            new_entity[ENTITY_ATTRIBUTE_VALUE] = normalized.text[span[0] : span[1]]
        moved.append(new_entity)
    return moved
