"""Spelling correction (bot.nlu.spelling) and its pipeline component (bot.nlu.speller)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.speller import SpellingCorrector
from bot.nlu.spelling import Lexicon, count_words, is_pinyin, reading
from tests.bot.nlu.helpers import execution_context

TRAINING_TEXTS = [
    "how many jobs at the recruitment fair",
    "how many jobs are there",
    "which days is the expo open",
    "which days is the expo on",
    "where is the recruitment fair",
    "what is the password of the wifi",
    "wifi password please",
    "展会有什么好玩的",
    "展会在哪里",
    "有什么好玩的",
    "主题日是哪天",
    "今天是什么主题日",
    "那天有什么活动",
    "那天的活动",
    "13号有什么活动",
    "换成英文",
    "换成中文",
]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    latin, han = count_words(TRAINING_TEXTS)
    return Lexicon(dict(latin), dict(han), min_count=2)


def corrected(lexicon: Lexicon, text: str) -> str:
    return lexicon.correct((text, list(range(len(text)))))[0]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("how many jobz at the recuitment fair", "how many jobs at the recruitment fair"),
        ("exop open wich days", "expo open which days"),
        ("wfii pasword?", "wifi password?"),
        ("wats on tmrw", "whats on tomorrow"),
        ("展绘有啥好完的", "展会有啥好玩的"),
        ("今天是什么主提日", "今天是什么主题日"),
    ],
)
def test_typos_become_the_training_words(lexicon: Lexicon, typed: str, meant: str) -> None:
    assert corrected(lexicon, typed) == meant


@pytest.mark.parametrize(
    "text",
    [
        "where is the expo",  # already right
        "lost my wallet near the hall",  # English words the training data does not use
        "lost my walet",  # "talent"/"wallet" are two edits away: a 5-letter word gets one
        "zhaopin zenme baoming",  # pinyin, not English with typos
        "哪天有什么活动",  # 哪 is not a typo of 那: the question would change
        "13号是什么主题日",  # 号是 reads like nothing it shares a character with
        "我想换城市",  # 换城 reads like 换成, but 城市 is a word
        "doo",  # three letters are too few to guess
    ],
)
def test_correct_text_and_non_typos_stay_as_typed(lexicon: Lexicon, text: str) -> None:
    assert corrected(lexicon, text) == text


def test_latin_corrections_keep_offsets_ascending(lexicon: Lexicon) -> None:
    text = "wats on tmrw at the exop"
    out, origin = lexicon.correct((text, list(range(len(text)))))
    assert out == "whats on tomorrow at the expo"
    assert len(origin) == len(out)
    assert origin == sorted(origin)
    assert out[origin.index(text.index("exop")) :].startswith("expo")


def test_pinyin_and_readings() -> None:
    assert is_pinyin("zenme") and is_pinyin("baoming") and is_pinyin("toujianli")
    assert not is_pinyin("recuitment") and not is_pinyin("has")
    assert reading("展会") == reading("展绘") == "zhan hui"


def test_component_learns_persists_and_moves_entities(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("speller")
    config = {**SpellingCorrector.get_default_config(), "dictionary_path": None}
    trainer = SpellingCorrector.create(config, storage, resource, execution_context())
    examples = [Message(data={TEXT: text}) for text in TRAINING_TEXTS]
    trainer.train(TrainingData(training_examples=examples))

    loaded = SpellingCorrector.load(config, storage, resource, execution_context())
    text = "is the exop open tmrw"
    message = Message(
        data={
            TEXT: text,
            ENTITIES: [{"entity": "event", "value": "expo", "start": 7, "end": 11}],
        }
    )
    loaded.process([message])
    assert message.get(TEXT) == "is the expo open tomorrow"
    (entity,) = message.get(ENTITIES)
    assert message.get(TEXT)[entity["start"] : entity["end"]] == "expo"
    assert entity["value"] == "expo"

    payload = Message(data={TEXT: '/ask_schedule{"date": "2024-09-10"}'})
    loaded.process([payload])
    assert payload.get(TEXT) == '/ask_schedule{"date": "2024-09-10"}'


def test_a_model_without_a_vocabulary_corrects_nothing(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    component = SpellingCorrector.load(
        SpellingCorrector.get_default_config(), storage, Resource("missing"), execution_context()
    )
    message = Message(data={TEXT: "exop"})
    component.process([message])
    assert message.get(TEXT) == "exop"
