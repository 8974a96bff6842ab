"""The assistant's two reply languages and how a message's language is told.

One definition for the whole runtime: actions pick replies by it, the database picks zh/en
columns by it, the evaluation checks replies by it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

Lang = Literal["zh", "en"]
DEFAULT_LANG: Lang = "zh"

# A Chinese character: CJK unified ideographs (with extension A) and compatibility ideographs.
CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A letter of the English alphabet: with CJK_CHAR, what tells Chinese, English and mixed text apart.
LATIN_LETTER = re.compile(r"[A-Za-z]")


# The entity that carries a message's language to the `language` slot (domain.yml): added by
# bot.nlu.language_tagger to typed text, by the channels to a button's payload.
LANGUAGE_ENTITY = "language"


def is_language_entity(entity: Mapping[str, Any]) -> bool:
    """True for that entity: scores and story tests leave it out (not a visitor's words)."""
    return entity.get("entity") == LANGUAGE_ENTITY


def visitor_entities(entities: Iterable[Mapping[str, Any]] | None) -> list[Mapping[str, Any]]:
    """The entities of what the visitor said: every one but the language entity, which the
    NLU adds to every message (a message with only that entity is still a bare "when?")."""
    return [entity for entity in entities or () if not is_language_entity(entity)]


def detect_language(text: str) -> Lang | None:
    """zh when the text has any Chinese character, en when it has Latin letters only.

    Mixed messages ("opening ceremony在哪") count as Chinese: a visitor who types Chinese
    at all reads Chinese. Messages with neither (emoji, digits) say nothing.
    """
    if CJK_CHAR.search(text):
        return "zh"
    if LATIN_LETTER.search(text):
        return "en"
    return None


def language_of(text: str, default: Lang = DEFAULT_LANG) -> Lang:
    """The language a reply to `text` is written in; `default` when the text does not say."""
    return detect_language(text) or default


def as_lang(value: object) -> Lang | None:
    """`value` if it names a reply language (a slot, a metadata field), else None."""
    return "zh" if value == "zh" else "en" if value == "en" else None
