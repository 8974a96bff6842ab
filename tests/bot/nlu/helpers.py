"""Messages, names and fakes shared by the NLU component tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from ops.harness import DEMO_NOW  # noqa: F401  (re-exported for the NLU tests)


@dataclass(frozen=True)
class Name:
    entity: str
    key: str
    text: str


NAMES = [
    Name("event", "opening_ceremony", "开幕式"),
    Name("event", "opening_ceremony", "opening ceremony"),
    Name("venue", "iff_nansha", "国际金融论坛"),
    Name("venue", "iff_nansha", "國際金融論壇（IFF）永久會址"),  # Traditional, full-width
    Name("venue", "iff_nansha", "IFF"),
    Name("venue", "jiaomen_park", "蕉門公園"),
    Name("theme_day", "finance_day", "金融日"),
    Name("theme_day", "personal_info_day", "个人信息保护日"),
    Name("forum_topic", "personal_info", "个人信息保护"),
    Name("forum_topic", "personal_info", "个"),  # too short to be a name: ignored
]


def message(text: str, entities: list[dict[str, Any]] | None = None) -> Message:
    data: dict[str, Any] = {TEXT: text}
    if entities is not None:
        data[ENTITIES] = entities
    return Message(data=data)


def found(msg: Message, extractor: str) -> list[tuple[str, str, str]]:
    """(entity, value, covered text) of the entities `extractor` added."""
    text = msg.get(TEXT)
    return [
        (e["entity"], e["value"], text[e["start"] : e["end"]])
        for e in msg.get(ENTITIES, [])
        if e.get("extractor") == extractor
    ]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeNames:
    def __init__(self, *batches: Iterable[Name] | Exception) -> None:
        self.batches = list(batches)
        self.calls = 0

    def __call__(self) -> Iterable[Name]:
        batch = self.batches[min(self.calls, len(self.batches) - 1)]
        self.calls += 1
        if isinstance(batch, Exception):
            raise batch
        return batch


def execution_context() -> ExecutionContext:
    """What Rasa hands a graph component it creates or loads, outside a trained graph."""
    return ExecutionContext(GraphSchema({}), uuid.uuid4().hex)
