"""DatabaseGazetteer: recognise names held in the event database, without retraining.

When the organisers add a venue or a forum to the database (with its zh/en/Traditional names
and aliases), visitors' messages naming it must be understood at once. DIET only knows names
seen in training, so this extractor runs after it and fills the gaps: it adds an entity for
every database name found in the message whose span does not overlap an entity already there.
The entity value is the database key (`iff_nansha`, `finance_day`, ...).

Why a longest-match scan over the folded text and not spaCy's PhraseMatcher: a PhraseMatcher
matches token sequences, and Chinese tokens come from jieba's segmentation, which depends on the
surrounding characters. Measured with spacy.blank("zh", segmenter=jieba) on this project's
names: without the names in jieba's dictionary it misses 电信日 in 电信日分论坛 (电信/日分/论坛)
and 蕉门公园 in 去蕉门公园 (去蕉门/公园); with every name forced into jieba it found exactly what
a substring scan finds (including the same ambiguous hits such as 金融日 in 金融日报), while
costing a second jieba dictionary (~0.8 s, tens of MB), a spaCy pipeline (~0.7 s) and a patch
of the tokenizer's private `jieba_seg`. Chinese has no word boundaries to respect, so the scan
is the more reliable tool here; for names that start or end with an ASCII letter or digit it
does require a non-alphanumeric neighbour, so "IFF" does not match inside "difference".

Matching is on a char-for-char folded view (full-width -> half-width, Traditional ->
Simplified, lower-case), so 國際金融論壇 or "IFF" in any case match and offsets stay exact.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

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

from bot.nlu.text import fold

logger = logging.getLogger(__name__)


class NameLike(Protocol):
    """What the gazetteer needs of a `bot.db.queries.NameEntry`."""

    entity: str
    key: str
    text: str


NamesProvider = Callable[[], Iterable[NameLike]]


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


class EventDBNames:
    """Default provider: `EventDB(url).names()`, the database object kept between refreshes.

    Imported lazily so the NLU package loads (and its tests run) without the DB layer.
    """

    def __init__(self, url: str | None) -> None:
        self._url = url
        self._db: Any = None

    def __call__(self) -> Iterable[NameLike]:
        if self._db is None:
            from bot.db.queries import EventDB

            self._db = EventDB(url=self._url)
        return self._db.names()


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


class NameIndex:
    """Names grouped by first folded character, longest first, for a left-to-right scan."""

    def __init__(self, names: Iterable[NameLike], min_length: int, entities: set[str] | None):
        """Folds and indexes `names`; on a folded-text clash the first entry wins."""
        self._by_first: dict[str, list[_Name]] = {}
        seen: dict[str, _Name] = {}
        for entry in names:
            folded = " ".join(fold(str(entry.text), lower=True).split())
            if len(folded) < min_length or (entities and entry.entity not in entities):
                continue
            if folded in seen:
                kept = seen[folded]
                if (kept.entity, kept.key) != (entry.entity, entry.key):
                    logger.debug("Name %r kept as %s/%s, not %s/%s", folded, kept.entity,
                                 kept.key, entry.entity, entry.key)  # fmt: skip
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
            # reload names from the database when the loaded ones are older than this
            "ttl_seconds": 300,
            # after a failed load (DB not ready), wait this long before trying again
            "retry_seconds": 30,
            # SQLAlchemy URL; None means EventDB's default (DATABASE_URL or the SQLite file)
            "database_url": None,
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
        names_provider: NamesProvider | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`names_provider` and `monotonic` are injectable for tests."""
        self._config = {**self.get_default_config(), **config}
        self._provider = names_provider or EventDBNames(self._config["database_url"])
        self._monotonic = monotonic
        self._index: NameIndex | None = None
        self._next_load = 0.0
        self._warned = False
        self._lock = threading.Lock()

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds database-name entities that do not overlap entities already on the message."""
        index = self._names()
        if index is None:
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

    def _names(self) -> NameIndex | None:
        """The name index, (re)loaded when missing or older than the TTL; on a failed load
        the previous names stay in use and a warning is logged once."""
        if self._monotonic() < self._next_load:
            return self._index
        with self._lock:
            now = self._monotonic()
            if now < self._next_load:
                return self._index
            try:
                self._index = NameIndex(
                    self._provider(),
                    int(self._config["min_name_length"]),
                    set(self._config["entities"]) if self._config["entities"] else None,
                )
                self._next_load = now + float(self._config["ttl_seconds"])
                logger.debug("DatabaseGazetteer loaded %d names", self._index.size)
                if self._warned:  # recovered: a later outage deserves its own warning
                    self._warned = False
                    logger.info("DatabaseGazetteer loaded names from the event database")
            except Exception as error:  # DB not ready: extract nothing
                self._next_load = now + float(self._config["retry_seconds"])
                if not self._warned:
                    self._warned = True
                    logger.warning(
                        "DatabaseGazetteer could not load names from the event database "
                        "(%s: %s); it adds no new names until the database is ready.",
                        type(error).__name__,
                        error,
                    )
        return self._index


def _entity(match: _Match) -> dict[str, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: match.name.entity,
        ENTITY_ATTRIBUTE_START: match.start,
        ENTITY_ATTRIBUTE_END: match.end,
        ENTITY_ATTRIBUTE_VALUE: match.name.key,
        ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
    }
