"""Sets the `language` slot from every user message (Rasa runs this after each message)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction

from bot.lang import as_lang, detect_language


class ValidateSlotMappings(ValidationAction):
    """Fills slots with `custom` mappings; Rasa calls it as action_validate_slot_mappings."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        # An emoji-only or digits-only message keeps the language the visitor used before, and
        # so does a button's payload (/ask_venue{...}: chosen, not written, by the visitor) —
        # unless the channel says which language its buttons were shown in (the web widget).
        text = tracker.latest_message.get("text") or ""
        previous = tracker.get_slot("language")
        if text.lstrip().startswith("/"):
            return {"language": language_in_metadata(tracker) or previous or "zh"}
        return {"language": detect_language(text) or previous or "zh"}


def language_in_metadata(tracker: Tracker) -> str | None:
    """metadata.language of the latest user message, as the website widget sends it."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            language = (event.get("metadata") or {}).get("language")
            return as_lang(language)
    return None
