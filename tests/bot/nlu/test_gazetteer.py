"""DatabaseGazetteer: database names DIET missed, matched on the folded text."""

from __future__ import annotations

import logging
import sys
import types
from typing import Any

import pytest
from rasa.shared.nlu.constants import ENTITIES, TEXT

from bot.nlu.gazetteer import DatabaseGazetteer
from bot.nlu.normalizer import TextNormalizer
from tests.bot.nlu.helpers import NAMES, FakeClock, FakeNames, Name, found, message


def gazetteer(provider: Any, clock: Any = None, **config: Any) -> DatabaseGazetteer:
    return DatabaseGazetteer(config, names_provider=provider, monotonic=clock or FakeClock())


def test_gazetteer_longest_match_wins() -> None:
    gaz = gazetteer(FakeNames(NAMES))
    msgs = [message("个人信息保护日有什么活动"), message("个人信息保护分论坛在哪")]
    gaz.process(msgs)
    assert found(msgs[0], "DatabaseGazetteer") == [
        ("theme_day", "personal_info_day", "个人信息保护日")
    ]
    assert found(msgs[1], "DatabaseGazetteer") == [("forum_topic", "personal_info", "个人信息保护")]


def test_gazetteer_only_fills_gaps_between_existing_entities() -> None:
    diet = {
        "entity": "event",
        "start": 0,
        "end": 3,
        "value": "opening_ceremony",
        "extractor": "DIET",
    }
    overlapping = {"entity": "date", "start": 9, "end": 11, "value": "2024-09-12"}
    msg = message("开幕式在国际金融论坛举行吗金融日", [diet, overlapping])
    gazetteer(FakeNames(NAMES)).process([msg])
    entities = msg.get(ENTITIES)
    assert entities[:2] == [diet, overlapping]
    # 开幕式 is DIET's already; 国际金融论坛 (4-10) overlaps the date at 9-11 so it is skipped
    assert found(msg, "DatabaseGazetteer") == [("theme_day", "finance_day", "金融日")]
    assert entities[2]["confidence"] == 1.0


def test_gazetteer_matches_traditional_input_after_normalisation(
    normalizer: TextNormalizer,
) -> None:
    msgs = [message("國際金融論壇（IFF）永久會址在哪裡？"), message("蕉门公园怎么去")]
    normalizer.process(msgs)
    gazetteer(FakeNames(NAMES)).process(msgs)
    assert msgs[0].get(TEXT) == "国际金融论坛(IFF)永久会址在哪里?"
    assert found(msgs[0], "DatabaseGazetteer") == [
        ("venue", "iff_nansha", "国际金融论坛(IFF)永久会址")
    ]
    # a Traditional name in the database matches Simplified text
    assert found(msgs[1], "DatabaseGazetteer") == [("venue", "jiaomen_park", "蕉门公园")]


def test_gazetteer_folds_without_the_normaliser() -> None:
    msg = message("國際金融論壇在哪")
    gazetteer(FakeNames(NAMES)).process([msg])
    assert found(msg, "DatabaseGazetteer") == [("venue", "iff_nansha", "國際金融論壇")]


def test_gazetteer_english_is_case_insensitive_and_word_bounded() -> None:
    msgs = [
        message("Where is the Opening Ceremony? near iff?"),
        message("what is the difference"),
        message("IFF在哪"),
    ]
    gazetteer(FakeNames(NAMES)).process(msgs)
    assert found(msgs[0], "DatabaseGazetteer") == [
        ("event", "opening_ceremony", "Opening Ceremony"),
        ("venue", "iff_nansha", "iff"),
    ]
    assert found(msgs[1], "DatabaseGazetteer") == []
    assert found(msgs[2], "DatabaseGazetteer") == [("venue", "iff_nansha", "IFF")]


def test_gazetteer_ignores_one_character_names() -> None:
    msg = message("这个")
    gazetteer(FakeNames(NAMES)).process([msg])
    assert msg.get(ENTITIES) is None


def test_gazetteer_entity_filter() -> None:
    msg = message("开幕式在国际金融论坛")
    gazetteer(FakeNames(NAMES), entities=["venue"]).process([msg])
    assert found(msg, "DatabaseGazetteer") == [("venue", "iff_nansha", "国际金融论坛")]


def test_gazetteer_sees_new_names_after_the_ttl() -> None:
    clock = FakeClock()
    provider = FakeNames(NAMES, [*NAMES, Name("venue", "new_hall", "新展馆")])
    gaz = gazetteer(provider, clock, ttl_seconds=300)
    before, cached, after = message("新展馆在哪"), message("新展馆在哪"), message("新展馆在哪")
    gaz.process([before])
    clock.now += 299
    gaz.process([cached])
    assert provider.calls == 1
    clock.now += 2
    gaz.process([after])
    assert provider.calls == 2
    assert found(before, "DatabaseGazetteer") == found(cached, "DatabaseGazetteer") == []
    assert found(after, "DatabaseGazetteer") == [("venue", "new_hall", "新展馆")]


def test_gazetteer_db_not_ready_warns_once_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    provider = FakeNames(RuntimeError("no tables"), RuntimeError("no tables"), NAMES)
    gaz = gazetteer(provider, clock, retry_seconds=30)
    msgs = [message("金融日") for _ in range(4)]
    with caplog.at_level(logging.WARNING, logger="bot.nlu.names"):
        gaz.process([msgs[0]])
        gaz.process([msgs[1]])  # within the retry delay: no new attempt
        clock.now += 31
        gaz.process([msgs[2]])  # fails again: no second warning
        clock.now += 31
        gaz.process([msgs[3]])  # database ready
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "no tables" in warnings[0].getMessage()
    assert provider.calls == 3
    assert [m.get(ENTITIES) for m in msgs[:3]] == [None, None, None]
    assert found(msgs[3], "DatabaseGazetteer") == [("theme_day", "finance_day", "金融日")]


def test_gazetteer_keeps_old_names_when_a_refresh_fails() -> None:
    clock = FakeClock()
    gaz = gazetteer(FakeNames(NAMES, RuntimeError("db down")), clock, ttl_seconds=1)
    gaz.process([message("x")])
    clock.now += 5
    msg = message("金融日")
    gaz.process([msg])
    assert found(msg, "DatabaseGazetteer") == [("theme_day", "finance_day", "金融日")]


@pytest.mark.parametrize(
    "text", ["", "😀" * 3000, "\x00\ud800金融日", bytes(range(256)).decode("latin-1")]
)
def test_gazetteer_survives_hostile_text(text: str) -> None:
    msg = message(text)
    gazetteer(FakeNames(NAMES)).process([msg])
    for entity in msg.get(ENTITIES) or []:
        assert text[entity["start"] : entity["end"]]


def test_gazetteer_default_provider_uses_event_db(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[str | None] = []

    class FakeEventDB:
        def __init__(self, url: str | None = None) -> None:
            created.append(url)

        def names(self) -> tuple[Name, ...]:
            return (Name("venue", "beijing", "北京"),)

    fake_module = types.ModuleType("bot.db.queries")
    fake_module.EventDB = FakeEventDB  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.db.queries", fake_module)
    gaz = DatabaseGazetteer.create({"database_url": "sqlite:///x.db"}, None, None, None)  # type: ignore[arg-type]
    msg = message("在北京开吗")
    gaz.process([msg])
    assert created == ["sqlite:///x.db"]
    assert found(msg, "DatabaseGazetteer") == [("venue", "beijing", "北京")]


def test_gazetteer_reads_the_real_seeded_database(seeded_db_url: str) -> None:
    gaz = DatabaseGazetteer.create({"database_url": seeded_db_url}, None, None, None)  # type: ignore[arg-type]
    msgs = [message("國際金融論壇永久會址在哪裡"), message("where is Jiaomen Park?")]
    gaz.process(msgs)
    assert found(msgs[0], "DatabaseGazetteer") == [("venue", "iff_nansha", "國際金融論壇永久會址")]
    assert found(msgs[1], "DatabaseGazetteer") == [("venue", "jiaomen_park", "Jiaomen Park")]
