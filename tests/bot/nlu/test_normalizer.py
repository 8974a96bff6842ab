"""TextNormalizer: Traditional -> Simplified, full-width -> half-width, controls out, length
cap; training annotations move with the text."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.normalizer import TextNormalizer
from tests.bot.nlu.helpers import message


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("開幕式在哪裡", "开幕式在哪里"),
        ("週二有什麼論壇？", "周二有什么论坛?"),
        ("９月１０日　ＩＦＦ", "9月10日 IFF"),
        ("  where \t is\n\n the\u200b expo  ", "where is the expo"),
        ("明天\x00\x07后天\x1b", "明天后天"),
        ("乾隆 頭髮", "乾隆 头发"),  # phrase-aware conversion keeps 乾 here
    ],
)
def test_normalizer_rewrites_text(normalizer: TextNormalizer, raw: str, clean: str) -> None:
    msg = message(raw)
    normalizer.process([msg])
    assert msg.get(TEXT) == clean


def test_normalizer_caps_length() -> None:
    normalizer = TextNormalizer({"max_length": 10})
    msg = message("開" * 10_000)
    normalizer.process([msg])
    assert msg.get(TEXT) == "开" * 10


def test_normalizer_moves_training_annotations(normalizer: TextNormalizer) -> None:
    text = "  請問\u200b  開幕式在  國際金融論壇嗎"
    opening = text.index("開幕式")
    venue = text.index("國際金融論壇")
    example = message(
        text,
        [
            {"entity": "event", "start": opening, "end": opening + 3, "value": "opening_ceremony"},
            {"entity": "venue", "start": venue, "end": venue + 6, "value": "國際金融論壇"},
        ],
    )
    data = TrainingData(training_examples=[example])
    normalizer.process_training_data(data)
    new_text = example.get(TEXT)
    assert new_text == "请问 开幕式在 国际金融论坛吗"
    spans = [(new_text[e["start"] : e["end"]], e["value"]) for e in example.get(ENTITIES)]
    # an explicit value (a database key) stays; a value that was just the text follows it
    assert spans == [("开幕式", "opening_ceremony"), ("国际金融论坛", "国际金融论坛")]


def test_normalizer_drops_annotations_that_were_cut_off() -> None:
    normalizer = TextNormalizer({"max_length": 5})
    example = message("请问开幕式在哪", [{"entity": "event", "start": 2, "end": 5, "value": "x"}])
    normalizer.process_training_data(TrainingData(training_examples=[example]))
    assert example.get(TEXT) == "请问开幕式"
    assert [(e["start"], e["end"]) for e in example.get(ENTITIES)] == [(2, 5)]
    late = message("请问一下开幕式", [{"entity": "event", "start": 4, "end": 7, "value": "x"}])
    normalizer.process_training_data(TrainingData(training_examples=[late]))
    assert late.get(ENTITIES) == []


def test_normalizer_leaves_intent_payloads_alone(normalizer: TextNormalizer) -> None:
    payload = '/ask_schedule{"date": "2024-09-10", "event": "開幕式"}'
    msg = message(payload)
    normalizer.process([msg])
    assert msg.get(TEXT) == payload


def test_normalizer_ignores_messages_without_text(normalizer: TextNormalizer) -> None:
    msg = Message(data={"intent": "greet"})
    normalizer.process([msg])
    assert msg.get(TEXT) is None
