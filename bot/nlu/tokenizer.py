"""JiebaTokenizer that survives mixed Chinese/English text and knows the event's vocabulary.

Rasa's own JiebaTokenizer passes jieba's whitespace tokens through, and they break entity
alignment and featurization in training (Rasa issue #7910; docs/decisions.md). This
subclass drops them, and loads the domain user dictionary (config.yml points at build/jieba,
which `cyberweek train` fills from data/jieba and the event seed) so 网络安全博览会 or 网博会
stay one token.

Note on the name: Rasa's recipe registry is keyed by class name, so importing this module makes
the plain name "JiebaTokenizer" resolve to this class as well. Configure it by its full path,
`bot.nlu.tokenizer.JiebaTokenizer`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer as RasaJiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

logger = logging.getLogger(__name__)

DEFAULT_DICTIONARY_PATH = "data/jieba"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class JiebaTokenizer(RasaJiebaTokenizer):
    """Rasa's JiebaTokenizer without whitespace tokens, with the project's user dictionary."""

    @staticmethod
    def supported_languages() -> list[str] | None:
        """Any: the assistant is bilingual and jieba splits Latin text on spaces and
        punctuation, so an `en` or `zh` pipeline language both work."""
        return None

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's defaults, with the project's user dictionary directory."""
        return {
            **RasaJiebaTokenizer.get_default_config(),
            # a directory: every file in it is loaded with jieba.load_userdict
            "dictionary_path": DEFAULT_DICTIONARY_PATH,
        }

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> JiebaTokenizer:
        """Creates the tokenizer; a configured dictionary directory that is missing is
        reported instead of silently tokenizing without the domain terms."""
        path = config.get("dictionary_path")
        if path is not None and not os.path.isdir(path):
            logger.warning(
                "Jieba user dictionary directory %r not found (relative to %s); "
                "domain terms will be split by jieba's default dictionary.",
                path,
                os.getcwd(),
            )
        return super().create(config, model_storage, resource, execution_context)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Jieba tokens of the attribute, without the whitespace-only ones."""
        return [token for token in super().tokenize(message, attribute) if token.text.strip()]
