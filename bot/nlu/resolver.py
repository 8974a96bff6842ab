"""EntityResolver: turn what DIET tagged into database keys, or drop it.

DIET finds *where* a name is from character n-grams, so it tags spans it never saw in training:
政务应用安全, "IFF venue", the typos 开幕试 and "oppening cerimony". Rasa's synonym mapper only
knows the exact training spellings, so such an entity reaches the actions with its raw text as
value ("开幕试"), which no database query can use, and it also hides the span from the
DatabaseGazetteer, which only fills gaps (most entity errors on the held-out set were of this
kind: docs/decisions.md).

This component runs after the EntitySynonymMapper. For every event / venue / theme_day /
forum_topic entity whose value is not a database key of its type it tries, on the span's text:

1. a database name or alias, exactly (after folding: Traditional -> Simplified, half-width,
   lower case) — which may also correct the type ("telecom day" tagged as an event);
2. a name within a small edit distance (typos): 1 edit for names of up to 5 characters, 2 up
   to 12, 3 beyond; never when one is contained in the other ("government" is not a typo of
   "e-government", it is a different word);
3. otherwise the entity is dropped: a value no action can use is noise (活动, 安全, "-").

Names come from the event database (bot.nlu.names, shared with the gazetteer), so they follow
the data without retraining.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
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

logger = logging.getLogger(__name__)

PROCESSORS = "processors"


class NameTable:
    """Folded name -> (entity, key), and the keys of every entity type."""

    def __init__(self, names: Iterable[NameLike], entities: set[str]) -> None:
        self.by_name: dict[str, tuple[str, str]] = {}
        self.keys: dict[str, set[str]] = {}
        for entry in names:
            if entry.entity not in entities:
                continue
            self.keys.setdefault(entry.entity, set()).add(entry.key)
            folded = fold_name(entry.text)
            if folded:
                self.by_name.setdefault(folded, (entry.entity, entry.key))

    def resolve(self, text: str, preferred: str) -> tuple[str, str] | None:
        """(entity, key) for a span's text: an exact name, else the closest typo-near one."""
        folded = fold_name(text)
        if not folded:
            return None
        if folded in self.by_name:
            return self.by_name[folded]
        best: tuple[int, bool, tuple[str, str]] | None = None
        for name, found in self.by_name.items():
            if abs(len(name) - len(folded)) > 3 or folded in name or name in folded:
                continue
            distance = _edit_distance(folded, name, _allowed_edits(len(name)))
            if distance is None:
                continue
            rank = (distance, found[0] != preferred, found)
            if best is None or rank < best:
                best = rank
        return best[2] if best else None


def _allowed_edits(length: int) -> int:
    if length < 3:
        return 0
    return 1 if length <= 5 else 2 if length <= 12 else 3


def _edit_distance(a: str, b: str, limit: int) -> int | None:
    """Levenshtein distance of a and b, or None when it exceeds `limit`."""
    if limit <= 0:
        return None
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        if min(current) > limit:
            return None
        previous = current
    return previous[-1] if previous[-1] <= limit else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class EntityResolver(GraphComponent, EntityExtractorMixin):
    """Maps entity values that are not database keys to keys (exact name, then typo), or
    drops them."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults; see the comments for what each key is for."""
        return {
            # entity types whose values are database keys
            "entities": ["event", "venue", "theme_day", "forum_topic"],
            **NAMES_CONFIG_DEFAULTS,
        }

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EntityResolver:
        """Creates the resolver; names are loaded on first use."""
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
        self._entities = set(self._config["entities"])
        self._table = IndexCache(
            names or DatabaseNames.for_config(self._config, names_provider, monotonic),
            lambda entries: NameTable(entries, self._entities),
        )

    def process(self, messages: list[Message]) -> list[Message]:
        """Resolves or drops the entities of each message whose value is not a key."""
        table = self._table.get()
        if table is None:  # no database: leave the entities as they are
            return messages
        for message in messages:
            entities = message.get(ENTITIES)
            text = message.get(TEXT)
            if not entities or not isinstance(text, str):
                continue
            try:
                message.set(ENTITIES, self._resolved(table, text, entities), add_to_output=True)
            except Exception:  # never take the NLU pipeline down
                logger.exception("EntityResolver failed on a message; entities left as they were")
        return messages

    def _resolved(
        self, table: NameTable, text: str, entities: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        kept = []
        for entity in entities:
            kind = entity.get(ENTITY_ATTRIBUTE_TYPE)
            if kind not in self._entities or entity.get(ENTITY_ATTRIBUTE_VALUE) in table.keys.get(
                kind, ()
            ):
                kept.append(entity)
                continue
            start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
            span = text[start:end] if isinstance(start, int) and isinstance(end, int) else ""
            found = table.resolve(span or str(entity.get(ENTITY_ATTRIBUTE_VALUE) or ""), kind)
            if found is None:
                logger.debug(
                    "EntityResolver dropped %s=%r", kind, entity.get(ENTITY_ATTRIBUTE_VALUE)
                )
                continue
            resolved = {**entity, ENTITY_ATTRIBUTE_TYPE: found[0], ENTITY_ATTRIBUTE_VALUE: found[1]}
            resolved[PROCESSORS] = [*entity.get(PROCESSORS, []), self.name]
            kept.append(resolved)
        return kept
