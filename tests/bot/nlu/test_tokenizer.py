"""JiebaTokenizer: no whitespace tokens, the domain user dictionary, registered by its path."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer as RasaJiebaTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import paths
from bot.nlu.tokenizer import JiebaTokenizer
from ops.training import write_jieba_dictionary
from tests.bot.nlu.helpers import message


@pytest.fixture
def tokenizer(tmp_path: Path) -> JiebaTokenizer:
    dictionary = write_jieba_dictionary(out_dir=tmp_path / "jieba")
    config = {**JiebaTokenizer.get_default_config(), "dictionary_path": str(dictionary)}
    return JiebaTokenizer.create(
        config,
        LocalModelStorage(tmp_path),
        Resource("jieba"),
        ExecutionContext(GraphSchema({}), uuid.uuid4().hex),
    )


def tokens(tok: Any, text: str) -> list[str]:
    return [t.text for t in tok.tokenize(message(text), TEXT)]


def test_rasa_jieba_tokenizer_really_emits_whitespace_tokens(tmp_path: Path) -> None:
    """The bug this subclass exists for (Rasa #7910) is still in the installed Rasa."""
    rasa_tok = RasaJiebaTokenizer(
        RasaJiebaTokenizer.get_default_config(), LocalModelStorage(tmp_path), Resource("r")
    )
    assert " " in tokens(rasa_tok, "opening ceremony在哪")


@pytest.mark.parametrize(
    "text",
    ["opening ceremony在哪", "where is  the 开幕式 ?", "  IFF 永久会址 ", "\t明天\n有什么"],
)
def test_tokenizer_drops_whitespace_tokens(tokenizer: JiebaTokenizer, text: str) -> None:
    msg = message(text)
    toks = tokenizer.tokenize(msg, TEXT)
    assert toks, text
    assert all(t.text.strip() for t in toks)
    assert all(text[t.start : t.end] == t.text for t in toks)


def test_tokenizer_offsets_for_mixed_text(tokenizer: JiebaTokenizer) -> None:
    toks = tokenizer.tokenize(message("opening ceremony在哪"), TEXT)
    assert [(t.text, t.start, t.end) for t in toks] == [
        ("opening", 0, 7),
        ("ceremony", 8, 16),
        ("在", 16, 17),
        ("哪", 17, 18),
    ]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("网络安全博览会在哪", "网络安全博览会"),
        ("那个人信息保护日呢", "个人信息保护日"),
        ("电信日分论坛在哪", "电信日"),
        ("电信日分论坛在哪", "分论坛"),
        ("去蕉门公园怎么走", "蕉门公园"),
        ("人工智能安全治理框架是什么", "人工智能安全治理框架"),
        ("穗好办有多少服务", "穗好办"),
        ("智能网联汽车安全分论坛", "智能网联汽车"),
        # from the seed's names, not data/jieba: jieba alone cuts 网 / 博会 and 车 / 联网
        ("网博会几点开门", "网博会"),
        ("车联网分论坛在哪", "车联网"),
    ],
)
def test_user_dictionary_keeps_domain_terms_whole(
    tokenizer: JiebaTokenizer, text: str, term: str
) -> None:
    assert term in tokens(tokenizer, text)


def test_user_dictionary_does_not_swallow_ordinary_words(tokenizer: JiebaTokenizer) -> None:
    assert tokens(tokenizer, "金融日报") == ["金融", "日报"]
    assert "日常" in tokens(tokenizer, "青少年日常活动")


def test_generated_dictionary_adds_only_short_names_jieba_would_break(tmp_path: Path) -> None:
    out_dir = write_jieba_dictionary(out_dir=tmp_path / "jieba")
    hand_files = sorted(p.name for p in paths.JIEBA_DIR.iterdir())
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([*hand_files, "event_names.txt"])
    added = (out_dir / "event_names.txt").read_text(encoding="utf-8").split()
    assert "网博会" in added
    assert "车联网" in added
    assert "车联网安全" not in added  # 车联网 / 安全 once 车联网 is known
    assert "宣传周开幕式" not in added  # jieba's 宣传周 / 开幕式 are the words training shares
    assert "开幕式" not in added  # already in data/jieba


def test_tokenizer_sets_tokens_in_training_data(tokenizer: JiebaTokenizer) -> None:
    example = message("where is the opening ceremony在哪里")
    example.set("intent", "ask_venue")
    tokenizer.process_training_data(TrainingData(training_examples=[example]))
    assert all(t.text.strip() for t in example.get(TOKENS_NAMES[TEXT]))


def test_tokenizer_is_registered_under_its_module_path() -> None:
    registered = DefaultV1Recipe._from_registry("bot.nlu.tokenizer.JiebaTokenizer")
    assert registered.clazz is JiebaTokenizer
    assert DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER in registered.types
