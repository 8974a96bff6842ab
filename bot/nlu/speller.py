"""SpellingCorrector: the pipeline step after TextNormalizer that fixes typos (bot.nlu.spelling).

It learns its vocabulary from the (normalised) training examples and the domain dictionary
that the tokenizer also loads, and keeps it in the model, so a model corrects towards exactly
the words it was trained on. Training examples go through the same correction as visitors'
messages; entity annotations move with the text, as in the TextNormalizer.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.normalizer import INTENT_PREFIX, moved_entities
from bot.nlu.spelling import Lexicon, count_words
from bot.nlu.text import Normalized

logger = logging.getLogger(__name__)

LEXICON_FILE = "lexicon.json"


# A tokenizer type, like the TextNormalizer, so that the recipe runs it on training data and
# messages before the real tokenizer; trainable, so that Rasa persists its vocabulary.
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class SpellingCorrector(GraphComponent):
    """Corrects Latin typos, chat shorthand and Chinese homophone typos towards the training
    vocabulary."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """min_count: how often the training data must use a word before a typo is corrected
        to it; dictionary_path: the domain dictionary directory (the tokenizer's)."""
        return {"min_count": 2, "dictionary_path": "build/jieba"}

    @staticmethod
    def required_packages() -> list[str]:
        return ["symspellpy", "pypinyin", "jieba"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        lexicon: Lexicon | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._lexicon = lexicon

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpellingCorrector:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SpellingCorrector:
        """The trained vocabulary; a model without one corrects nothing (and says so)."""
        try:
            with model_storage.read_from(resource) as directory:
                data = json.loads((Path(directory) / LEXICON_FILE).read_text(encoding="utf-8"))
            lexicon = Lexicon.from_json(data)
        except (ValueError, OSError, KeyError) as error:
            logger.warning("No spelling vocabulary in the model (%s): typos stay as typed", error)
            lexicon = None
        return cls(config, model_storage, resource, lexicon)

    def train(self, training_data: TrainingData) -> Resource:
        """Counts the words of the training examples and adds the domain dictionary's."""
        _load_user_dictionary(self._config.get("dictionary_path"))
        texts = [example.get(TEXT) for example in training_data.training_examples]
        latin, han = count_words(text for text in texts if isinstance(text, str))
        min_count = int(self._config["min_count"])
        for word in _dictionary_words(self._config.get("dictionary_path")):
            han[word] = max(han[word], min_count)
        self._lexicon = Lexicon(dict(latin), dict(han), min_count)
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / LEXICON_FILE).write_text(
                json.dumps(self._lexicon.to_json(), ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        if self._lexicon is None:
            return messages
        for message in messages:
            self._correct_message(message)
        return messages

    def _correct_message(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text or text.lstrip().startswith(INTENT_PREFIX):
            return
        assert self._lexicon is not None
        corrected, origin = self._lexicon.correct((text, list(range(len(text)))))
        if corrected == text:
            return
        message.set(TEXT, corrected)
        entities = message.get(ENTITIES)
        if entities:
            traced = Normalized(corrected, tuple(origin), len(text))
            message.set(ENTITIES, moved_entities(entities, text, traced))


def _dictionary_files(directory: str | None) -> list[Path]:
    if not directory or not Path(directory).is_dir():
        return []
    return sorted(Path(directory).glob("*.txt"))


def _load_user_dictionary(directory: str | None) -> None:
    """Segments training text as the tokenizer will: Rasa's JiebaTokenizer loads the same
    files into jieba's global dictionary, but maybe after this component has trained."""
    import jieba

    for path in _dictionary_files(directory):
        jieba.load_userdict(str(path))


def _dictionary_words(directory: str | None) -> list[str]:
    """The words of a jieba user-dictionary directory (first field of each line)."""
    words = []
    for path in _dictionary_files(directory):
        for line in path.read_text(encoding="utf-8").splitlines():
            fields = line.split()
            if fields:
                words.append(fields[0])
    return words
