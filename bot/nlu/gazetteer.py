"""DatabaseGazetteer: recognise names held in the event database, without retraining.

DIET only knows names seen in training, so this extractor runs after it and fills the gaps: it
adds an entity for every database name (bot.nlu.names) found in the message whose span does not
overlap an entity already there. The entity value is the database key (`iff_nansha`, ...).

Why a longest-match scan and not spaCy's PhraseMatcher: Chinese has no word boundaries to
respect, and token matching depends on jieba's segmentation (docs/decisions.md). Names
that start or end with an ASCII letter or digit do need a non-alphanumeric neighbour, so "IFF"
does not match inside "difference". The scan runs on a char-for-char folded view (half-width,
Simplified, lower-case), so 國際金融論壇 or "iff" match and offsets stay exact.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.names import (
    NAMES_CONFIG_DEFAULTS,
    DatabaseNames,
    IndexCache,
    NameLike,
    NamesFunction,
    fold_name,
)
from bot.nlu.text import fold

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Name:
    folded: str
    entity: str
    key: str


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    name: _Name


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


class NameIndex:
    """Names grouped by first folded character, longest first, for a left-to-right scan."""

    def __init__(self, names: Iterable[NameLike], min_length: int, entities: set[str] | None):
        """Folds and indexes `names`; on a folded-text clash the first entry wins."""
        self._by_first: dict[str, list[_Name]] = {}
        seen: dict[str, _Name] = {}
        for entry in names:
            folded = fold_name(entry.text)
            if len(folded) < min_length or (entities and entry.entity not in entities):
                continue
            if folded in seen:
                kept = seen[folded]
                if (kept.entity, kept.key) != (entry.entity, entry.key):
                    logger.debug(
                        "Name %r kept as %s/%s, not %s/%s",
                        folded,
                        kept.entity,
                        kept.key,
                        entry.entity,
                        entry.key,
                    )
                continue
            seen[folded] = _Name(folded, str(entry.entity), str(entry.key))
            self._by_first.setdefault(folded[0], []).append(seen[folded])
        for bucket in self._by_first.values():
            bucket.sort(key=lambda name: -len(name.folded))
        self.size = len(seen)

    def find(self, view: str) -> list[_Match]:
        """The longest name starting at each position of `view` (a folded, lower-cased text)."""
        found = []
        for start, char in enumerate(view):
            for name in self._by_first.get(char, ()):
                end = start + len(name.folded)
                if view.startswith(name.folded, start) and self._bounded(view, start, end, name):
                    found.append(_Match(start, end, name))
                    break
        return found

    @staticmethod
    def _bounded(view: str, start: int, end: int, name: _Name) -> bool:
        if _is_word_char(name.folded[0]) and start > 0 and _is_word_char(view[start - 1]):
            return False
        return not (_is_word_char(name.folded[-1]) and end < len(view) and _is_word_char(view[end]))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class DatabaseGazetteer(GraphComponent, EntityExtractorMixin):
    """Adds entities for event-database names found in a message, filling DIET's gaps."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults; see the comments for what each key is for."""
        return {
            **NAMES_CONFIG_DEFAULTS,
            # only these entity types (None: every type the database names)
            "entities": None,
            # shorter names (after folding) are ignored: one character matches everywhere
            "min_name_length": 2,
            # only the first characters of a message are scanned (the normaliser caps at 500)
            "max_text_length": 1000,
        }

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DatabaseGazetteer:
        """Creates the extractor; names are loaded on first use, not here, so a model can be
        loaded while the database is still being prepared."""
        return cls(config)

    def __init__(
        self,
        config: dict[str, Any],
        names_provider: NamesFunction | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        names: DatabaseNames | None = None,
    ) -> None:
        """Names come from `names`, else from the shared DatabaseNames of `database_url`;
        `names_provider` and `monotonic` give a private one instead (tests)."""
        self._config = {**self.get_default_config(), **config}
        self._index = IndexCache(
            names or DatabaseNames.for_config(self._config, names_provider, monotonic),
            self._build_index,
        )

    def _build_index(self, names: tuple[NameLike, ...]) -> NameIndex:
        entities = self._config["entities"]
        index = NameIndex(
            names, int(self._config["min_name_length"]), set(entities) if entities else None
        )
        logger.debug("DatabaseGazetteer indexed %d names", index.size)
        return index

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds database-name entities that do not overlap entities already on the message."""
        index = self._index.get()
        if index is None:  # the database was never read: nothing to add
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text:
                continue
            try:
                new = self._extract(index, text, message.get(ENTITIES, []))
            except Exception:  # never take the NLU pipeline down
                logger.exception("DatabaseGazetteer failed on a message; no entities added")
                continue
            if new:
                message.set(ENTITIES, message.get(ENTITIES, []) + new, add_to_output=True)
        return messages

    def _extract(
        self, index: NameIndex, text: str, existing: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        scanned = text[: int(self._config["max_text_length"])]
        view = fold(scanned, lower=True)
        if len(view) != len(scanned):  # fold is char-for-char; never trust offsets otherwise
            return []
        taken = bytearray(len(text) + 1)
        for entity in existing:
            start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
            if isinstance(start, int) and isinstance(end, int):
                taken[max(start, 0) : max(end, 0)] = b"\x01" * (max(end, 0) - max(start, 0))
        chosen = []
        for match in sorted(index.find(view), key=lambda m: (m.start - m.end, m.start)):
            if not any(taken[match.start : match.end]):
                taken[match.start : match.end] = b"\x01" * (match.end - match.start)
                chosen.append(match)
        chosen.sort(key=lambda m: m.start)
        return self.add_extractor_name([_entity(match) for match in chosen])


def _entity(match: _Match) -> dict[str, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: match.name.entity,
        ENTITY_ATTRIBUTE_START: match.start,
        ENTITY_ATTRIBUTE_END: match.end,
        ENTITY_ATTRIBUTE_VALUE: match.name.key,
        ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
    }
