"""The tracker keeps what the visitor wrote, not the normalised text the NLU classified.

Runs Rasa 3.6's own `MessageProcessor.parse_message` and `_handle_message_with_tracker`
(rasa/core/processor.py: `UserUttered(message.text, parse_data["intent"], …, parse_data)`) with
the TextNormalizer standing in for the trained graph, so no model is needed: if a Rasa upgrade
started logging the parsed TEXT, this test would fail.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.normalizer import TextNormalizer

_TARGET = "nlu"


class _NormalizingGraph:
    """In place of the model's graph runner: the TextNormalizer and a fixed intent."""

    def __init__(self) -> None:
        self.normalizer = TextNormalizer(TextNormalizer.get_default_config())

    def run(self, inputs: dict[str, Any], targets: list[str]) -> dict[str, list[Message]]:
        (user_message,) = next(iter(inputs.values()))
        message = Message(data={TEXT: user_message.text}, output_properties={TEXT, INTENT})
        self.normalizer.process([message])
        message.set(INTENT, {"name": "ask_venue", "confidence": 1.0})
        return {targets[0]: [message]}


def _processor() -> MessageProcessor:
    processor = MessageProcessor.__new__(MessageProcessor)  # no model, no stores
    processor.http_interpreter = None
    processor.graph_runner = _NormalizingGraph()
    processor.model_metadata = SimpleNamespace(nlu_target=_TARGET)
    processor.domain = Domain.empty()
    return processor


def test_tracker_stores_the_original_text_and_parse_data_the_normalised() -> None:
    original = (
        "<p>我是澳門嘅大學生，下週想帶十幾個同學一齊去廣州睇網安周，大家都好期待！！！</p>"
        "<p>請問開幕式喺邊度舉行？？？🙏</p>"
    )
    tracker = DialogueStateTracker.from_events("visitor", [])
    asyncio.run(_processor()._handle_message_with_tracker(UserMessage(original), tracker))

    uttered = tracker.latest_message
    assert isinstance(uttered, UserUttered)
    assert uttered.text == original
    assert uttered.parse_data["text"] == "请问开幕式在哪里举行?"
    assert uttered.intent["name"] == "ask_venue"
    # actions get the parse data: `latest_message["text"]` is what was classified
    assert tracker.current_state()["latest_message"]["text"] == "请问开幕式在哪里举行?"
    # what a tracker store writes and reads back
    restored = Event.from_parameters(uttered.as_dict())
    assert isinstance(restored, UserUttered)
    assert restored.text == original
