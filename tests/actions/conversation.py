"""A conversation without Rasa: each turn runs the action the rules pick, the way Rasa would.

Turns carry the NLU result (intent, entities) the model would give, so these tests check the
dialogue logic — what a follow-up refers to — not the model. As in Rasa, every message also
carries the LanguageTagger's `language` entity (a bare "几号？" still has that one), and the
tracker's events grow as Rasa's: the user event, the `language` slot set from it,
entity-mapped slots, then the action's SlotSet events.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.about_last import ActionAnswerAboutLast
from actions.common import DatabaseAction
from actions.registry import INTENT_ACTIONS, answers
from bot.lang import detect_language
from bot.nlu.language_tagger import language_entity

ABOUT_LAST_INTENTS = ("switch_language", "ask_confirm", "ask_other_one")
ENTITY_SLOTS = ("event", "venue", "theme_day", "forum_topic", "date", "year")


def action_for(intent: str) -> DatabaseAction | None:
    """The action the rules run for `intent`; None for a domain.yml response (greet, thank)."""
    if intent in ABOUT_LAST_INTENTS:
        return ActionAnswerAboutLast()
    answers()  # imports every capability module
    name = INTENT_ACTIONS.get(intent)
    if name is None:
        return None
    found = [c for c in _subclasses(DatabaseAction) if c.action_name == name]
    return found[0]()


def _subclasses(cls: type) -> list[type]:
    return [s for sub in cls.__subclasses__() for s in (sub, *_subclasses(sub))]


@dataclass
class Reply:
    text: str
    buttons: list[dict[str, Any]]
    slots: dict[str, Any]


@dataclass
class Conversation:
    events: list[dict[str, Any]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    turns: int = 0

    def say(
        self,
        text: str,
        intent: str,
        entities: dict[str, str | list[str]] | None = None,
        ranking: list[tuple[str, float]] | None = None,
    ) -> Reply:
        self.turns += 1
        items = [
            {"entity": name, "value": value}
            for name, values in (entities or {}).items()
            for value in (values if isinstance(values, list) else [values])
        ]
        tagged = language_entity(text)  # what the pipeline's last component adds
        message = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.99},
            "entities": [*items, tagged] if tagged else items,
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking or []],
            "message_id": f"m{self.turns}",
        }
        self.events.append(
            {"event": "user", "text": text, "parse_data": message, "message_id": f"m{self.turns}"}
        )
        language = detect_language(text) or self.slots.get("language") or "zh"
        self._set("language", language)
        for item in items:
            if item["entity"] in ENTITY_SLOTS:
                self._set(item["entity"], item["value"])
        tracker = Tracker(
            "visitor",
            dict(self.slots),
            message,
            list(self.events),
            False,
            None,
            {},
            "action_listen",
        )
        dispatcher = CollectingDispatcher()
        action = action_for(intent)
        if action is None:  # a static response: it sets no slot
            self.events.append({"event": "bot", "text": f"utter_{intent}"})
            return Reply(f"utter_{intent}", [], {})
        returned = asyncio.run(action.run(dispatcher, tracker, {}))
        set_now = {}
        for event in returned:
            if event.get("event") == "slot":
                self._set(event["name"], event["value"])
                set_now[event["name"]] = event["value"]
        text_out = "\n".join(m.get("text") or "" for m in dispatcher.messages)
        buttons = [b for m in dispatcher.messages for b in m.get("buttons") or []]
        return Reply(text_out, buttons, set_now)

    def _set(self, name: str, value: Any) -> None:
        self.slots[name] = value
        self.events.append({"event": "slot", "name": name, "value": value})
