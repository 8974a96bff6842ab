"""What a visitor's message may carry into Rasa: its length, its metadata, a typed /intent{...}.

Every public channel (REST, the widget, WeChat) passes a message through here before it builds
Rasa's `UserMessage`; the bounds themselves are in bot/limits.py and docs/security.md.

Visitors can type Rasa's own syntax, `/inform{"day_offset": "999999999"}`, and Rasa's
RegexMessageHandler turns it into an intent with those entities, unchecked: lists and objects
reached text slots, and a huge day offset raised OverflowError in an action. The payload is
checked here, in the channel, because RegexMessageHandler is the last node of Rasa 3.6's
prediction graph (the model's `nlu_target`): no config.yml component can run after it, and a
new one would need retraining. A payload keeps a known intent and its valid entities (strings
only, bounded, `day_offset` an integer within ±31 days, `year` four digits, `date` ISO); an
unknown intent is ordinary text. Our own buttons (/ask_venue{"event": "expo"}, /request_human)
pass unchanged.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.lang import LANGUAGE_ENTITY, as_lang
from bot.limits import MAX_ENTITY_CHARS, MAX_MESSAGE_CHARS, day_offset_days

logger = logging.getLogger(__name__)

INTENT_PREFIX = "/"
# Metadata the product reads (the widget's reply language, see `checked_payload`); each key's
# check returns the value to keep or None. Anything else is dropped before the tracker.
KEPT_METADATA: dict[str, Callable[[Any], Any]] = {"language": as_lang}

_YEAR = re.compile(r"[0-9]{4}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Leading whitespace and slashes: "/ /ask_venue{...}" must not become a payload once stripped.
_PAYLOAD_LEAD = re.compile(r"^[\s/]+")
# A JSON "\ud800" escape decodes to a lone surrogate: no character, and no UTF-8 database
# (the tracker store, the desk's tables) can store it. (A pair decodes to one character.)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"


def without_lone_surrogates(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD, as a UTF-8 decoder would: a
    visitor's words can then be stored (SQLite raised UnicodeEncodeError on them)."""
    return _LONE_SURROGATE.sub(REPLACEMENT_CHARACTER, text)


def storable(text: str) -> bool:
    """Whether `text` can be stored as it is (an id must not be changed to fit)."""
    return _LONE_SURROGATE.search(text) is None


def kept_metadata(metadata: Any) -> dict[str, Any]:
    """The metadata keys the product uses, with valid values; everything else dropped."""
    if not isinstance(metadata, dict):
        return {}
    kept = {}
    for key, check in KEPT_METADATA.items():
        value = check(metadata.get(key))
        if value is not None:
            kept[key] = value
    return kept


@dataclass(frozen=True)
class PayloadRules:
    """The intents and entities a payload may name: the domain's."""

    intents: frozenset[str]
    entities: frozenset[str]

    @classmethod
    def of(cls, intents: Collection[str], entities: Collection[str]) -> PayloadRules:
        return cls(frozenset(intents), frozenset(entities))


def _names(entries: Any) -> list[str]:
    """Names of a domain list whose items are "name" or {"name": {options}}."""
    names: list[str] = []
    for entry in entries or []:
        names.extend([entry] if isinstance(entry, str) else list(entry or {}))
    return names


@functools.lru_cache(maxsize=1)
def payload_rules() -> PayloadRules:
    """The intents and entities of domain.yml (plus Rasa's default intents, /restart ...),
    read once. Rasa checks the payload again against the model's own domain."""
    import yaml
    from rasa.shared.core.constants import DEFAULT_INTENTS

    from bot.paths import DOMAIN_FILE

    domain = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8")) or {}
    intents = _names(domain.get("intents")) + list(DEFAULT_INTENTS)
    return PayloadRules.of(intents, _names(domain.get("entities")))


def valid_entity_value(entity: str, value: Any) -> str | None:
    """The value to keep for `entity`, or None: strings only, printable, bounded, and the
    typed entities in their form (a day offset as "+1" whatever the sign was written)."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ENTITY_CHARS:
        return None
    if not value.isprintable():  # controls, lone surrogates (unencodable), zero-width marks
        return None
    if entity == "day_offset":
        days = day_offset_days(value) if value == value.strip() else None
        return None if days is None else f"{days:+d}"
    if entity == "year":
        return value if _YEAR.fullmatch(value) else None
    if entity == "date":
        return value if _ISO_DATE.fullmatch(value) and _is_date(value) else None
    if entity == LANGUAGE_ENTITY:
        return as_lang(value)
    return value


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _payload_match(text: str) -> tuple[str, str | None]:
    """(intent, entities JSON) as Rasa's own pattern reads `/intent@confidence{entities}rest`,
    so both see the same parts; ("", None) when it does not match."""
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.constants import ENTITIES, INTENT_NAME_KEY

    match = YAMLStoryReader._regex_message_pattern().match(text)
    if match is None:
        return "", None
    return match.group(INTENT_NAME_KEY).strip(), match.group(ENTITIES)


def _entities_of(entities_json: str | None) -> dict[str, Any]:
    if not entities_json:
        return {}
    try:
        parsed = json.loads(entities_json)
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested past the stack
        return {}
    return parsed if isinstance(parsed, dict) else {}


def checked_payload(text: str, rules: PayloadRules, language: str | None = None) -> str:
    """`text` with a typed /intent{...} reduced to what may reach the actions.

    A known intent keeps its valid entities (rewritten as JSON, confidence dropped:
    a visitor does not choose the classifier's certainty); an unknown intent, or a text that
    is not Rasa's syntax at all, loses its leading slashes and is read as ordinary text.
    Anything not starting with "/" is returned as it is. `language` (the channel's: the
    language the buttons were shown in) is added to a payload that names none, so that the
    `language` slot follows it (bot/nlu/language_tagger.py reads typed text only).
    """
    stripped = text.strip()
    if not stripped.startswith(INTENT_PREFIX):
        return text
    intent, entities_json = _payload_match(stripped)
    if intent not in rules.intents:
        return _PAYLOAD_LEAD.sub("", stripped)
    entities: dict[str, str] = {}
    dropped = 0
    for name, value in _entities_of(entities_json).items():
        kept = valid_entity_value(name, value) if name in rules.entities else None
        if kept is None:
            dropped += 1
        else:
            entities[name] = kept
    if dropped:
        logger.info("typed payload /%s: %d invalid entities dropped", intent, dropped)
    if language is not None and LANGUAGE_ENTITY in rules.entities:
        entities.setdefault(LANGUAGE_ENTITY, language)
    # compact: never longer than what was typed (a day offset's "+" aside)
    suffix = json.dumps(entities, ensure_ascii=False, separators=(",", ":")) if entities else ""
    return f"{INTENT_PREFIX}{intent}{suffix}"


def cut_message(text: str) -> str:
    """At most MAX_MESSAGE_CHARS characters (the widget and WeChat answer a long paste),
    lone surrogates replaced."""
    return without_lone_surrogates(text[:MAX_MESSAGE_CHARS])


def visitor_text(text: str, rules: PayloadRules | None = None, language: str | None = None) -> str:
    """A widget or WeChat message as Rasa should see it: cut, and its payload checked (and
    given the channel's `language`, see `checked_payload`)."""
    return checked_payload(cut_message(text), rules or payload_rules(), language)
