"""Sets the `language` slot from every user message (Rasa runs this after each message)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction

from actions.common import detect_language


class ValidateSlotMappings(ValidationAction):
    """Fills slots with `custom` mappings; Rasa calls it as action_validate_slot_mappings."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        # An emoji-only or digits-only message keeps the language the visitor used before.
        detected = detect_language(tracker.latest_message.get("text") or "")
        return {"language": detected or tracker.get_slot("language") or "zh"}
