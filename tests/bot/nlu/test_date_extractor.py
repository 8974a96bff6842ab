"""DateExtractor: ISO `date` and `day_offset` entities, resolved at parse time."""

from __future__ import annotations

import pytest
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES

from bot.nlu.date_extractor import DateExtractor
from tests.bot.nlu.helpers import DEMO_NOW, found, message


def test_date_extractor_is_registered_under_its_module_path() -> None:
    registered = DefaultV1Recipe._from_registry("bot.nlu.date_extractor.DateExtractor")
    assert registered.clazz is DateExtractor
    assert registered.types == {DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR}
    assert registered.is_trainable is False


def test_dates_module_does_not_name_the_component() -> None:
    """bot.nlu.dates is the plain date finder the component wraps; it never imports it back."""
    import bot.nlu.dates

    assert not hasattr(bot.nlu.dates, "DateExtractor")


@pytest.fixture
def date_extractor(monkeypatch: pytest.MonkeyPatch) -> DateExtractor:
    monkeypatch.setenv("CYBERWEEK_NOW", DEMO_NOW)
    return DateExtractor.create({}, None, None, None)  # type: ignore[arg-type]


def test_date_extractor_adds_iso_date_with_span(date_extractor: DateExtractor) -> None:
    msg = message("请问9月12日有什么活动")
    date_extractor.process([msg])
    (entity,) = msg.get(ENTITIES)
    assert entity == {
        "entity": "date",
        "start": 2,
        "end": 7,
        "value": "2024-09-12",
        "confidence": 1.0,
        "extractor": "DateExtractor",
    }
    assert ENTITIES in msg.output_properties


def test_date_extractor_adds_day_offsets(date_extractor: DateExtractor) -> None:
    msgs = [message("那第二天呢"), message("and the day before?")]
    date_extractor.process(msgs)
    assert found(msgs[0], "DateExtractor") == [("day_offset", "+1", "第二天")]
    assert found(msgs[1], "DateExtractor") == [("day_offset", "-1", "the day before")]


def test_date_extractor_resolves_at_parse_time(
    date_extractor: DateExtractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, later = message("明天呢"), message("明天呢")
    date_extractor.process([first])
    monkeypatch.setenv("CYBERWEEK_NOW", "2024-09-13T09:00:00+08:00")
    date_extractor.process([later])
    assert found(first, "DateExtractor") == [("date", "2024-09-11", "明天")]
    assert found(later, "DateExtractor") == [("date", "2024-09-14", "明天")]


def test_date_extractor_replaces_foreign_date_entities(date_extractor: DateExtractor) -> None:
    diet_date = {"entity": "date", "start": 0, "end": 2, "value": "周五", "extractor": "DIET"}
    diet_event = {"entity": "event", "start": 2, "end": 5, "value": "expo", "extractor": "DIET"}
    msg = message("周五博览会开吗", [diet_date, diet_event])
    date_extractor.process([msg])
    assert [(e["entity"], e["value"], e["extractor"]) for e in msg.get(ENTITIES)] == [
        ("event", "expo", "DIET"),
        ("date", "2024-09-13", "DateExtractor"),
    ]


def test_date_extractor_keeps_entities_and_adds_nothing_without_dates(
    date_extractor: DateExtractor,
) -> None:
    msg = message("5个分论坛在哪里", [{"entity": "event", "start": 2, "end": 5, "value": "x"}])
    date_extractor.process([msg])
    assert msg.get(ENTITIES) == [{"entity": "event", "start": 2, "end": 5, "value": "x"}]


def test_date_extractor_fails_fast_on_a_bad_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYBERWEEK_NOW", "next tuesday")
    with pytest.raises(ValueError, match="CYBERWEEK_NOW"):
        DateExtractor.create({}, None, None, None)  # type: ignore[arg-type]


def test_date_extractor_survives_a_clock_broken_later(
    date_extractor: DateExtractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CYBERWEEK_NOW", "garbage")
    msg = message("明天")
    assert date_extractor.process([msg]) == [msg]
    assert msg.get(ENTITIES) is None
