"""EntityResolver: DIET's entity values mapped to database keys (exact name, typo) or dropped."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.resolver import EntityResolver, NameTable
from tests.bot.nlu.helpers import Name


NAMES = [
    Name("event", "opening_ceremony", "开幕式"),
    Name("event", "opening_ceremony", "opening ceremony"),
    Name("venue", "iff_nansha", "IFF venue"),
    Name("forum_topic", "egov", "政务应用安全"),
    Name("forum_topic", "egov", "e-government"),
    Name("theme_day", "telecom_day", "telecom day"),
    Name("theme_day", "telecom_day", "電信日"),
]


def diet(text: str, span: str, entity: str, value: str | None = None) -> dict[str, Any]:
    start = text.index(span)
    return {
        "entity": entity,
        "start": start,
        "end": start + len(span),
        "value": span if value is None else value,
        "extractor": "DIETClassifier",
    }


def resolve(text: str, *entities: dict[str, Any]) -> list[tuple[str, str]]:
    resolver = EntityResolver({}, names_provider=lambda: NAMES)
    message = Message(data={TEXT: text, ENTITIES: list(entities)})
    resolver.process([message])
    return [(e["entity"], e["value"]) for e in message.get(ENTITIES)]


def test_a_database_key_is_kept_as_it_is() -> None:
    text = "开幕式在哪"
    assert resolve(text, diet(text, "开幕式", "event", "opening_ceremony")) == [
        ("event", "opening_ceremony")
    ]


@pytest.mark.parametrize(
    ("text", "span", "entity", "expected"),
    [
        ("有没有关于政务应用安全的论坛", "政务应用安全", "forum_topic", ("forum_topic", "egov")),
        ("where is the IFF venue", "IFF venue", "venue", ("venue", "iff_nansha")),
        ("telecom day是几号", "telecom day", "event", ("theme_day", "telecom_day")),  # type fixed
        ("电信日是几号", "电信日", "theme_day", ("theme_day", "telecom_day")),  # Traditional name
    ],
)
def test_an_exact_name_is_resolved_to_its_key(
    text: str, span: str, entity: str, expected: tuple[str, str]
) -> None:
    assert resolve(text, diet(text, span, entity)) == [expected]


@pytest.mark.parametrize(
    ("text", "span"),
    [("开幕试是哪天", "开幕试"), ("when is the oppening cerimony", "oppening cerimony")],
)
def test_a_typo_is_resolved_to_the_nearest_name(text: str, span: str) -> None:
    assert resolve(text, diet(text, span, "event")) == [("event", "opening_ceremony")]


@pytest.mark.parametrize(
    ("text", "span", "entity"),
    [
        ("有没有招聘方面的活动", "活动", "event"),
        ("which government departments organise it", "government", "forum_topic"),
        ("can non-students join", "-", "event"),
    ],
)
def test_an_unusable_value_is_dropped(text: str, span: str, entity: str) -> None:
    assert resolve(text, diet(text, span, entity)) == []


def test_dates_and_other_entities_are_not_touched() -> None:
    text = "明天呢"
    date = {"entity": "date", "start": 0, "end": 2, "value": "2024-09-11"}
    assert resolve(text, date) == [("date", "2024-09-11")]


def test_without_a_database_entities_are_left_alone() -> None:
    def broken() -> list[Name]:
        raise RuntimeError("no database")

    resolver = EntityResolver({}, names_provider=broken)
    text = "开幕试是哪天"
    message = Message(data={TEXT: text, ENTITIES: [diet(text, "开幕试", "event")]})
    resolver.process([message])
    assert message.get(ENTITIES)[0]["value"] == "开幕试"


def test_short_names_need_an_exact_match() -> None:
    table = NameTable([Name("venue", "beijing", "北京")], {"venue"})
    assert table.resolve("北京", "venue") == ("venue", "beijing")
    assert table.resolve("背景", "venue") is None
