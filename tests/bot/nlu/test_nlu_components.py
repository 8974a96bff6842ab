"""The custom Rasa NLU components, exercised on rasa Message objects directly."""

from __future__ import annotations

import logging
import sys
import types
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer as RasaJiebaTokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import paths
from ops.harness import DEMO_NOW
from ops.training import write_jieba_dictionary
from bot.nlu.date_extractor import DateExtractor
from bot.nlu.gazetteer import DatabaseGazetteer
from bot.nlu.normalizer import TextNormalizer
from bot.nlu.tokenizer import JiebaTokenizer



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


# ------------------------------------------------------------------------------ TextNormalizer
@pytest.fixture
def normalizer() -> TextNormalizer:
    return TextNormalizer.create(TextNormalizer.get_default_config(), None, None, None)  # type: ignore[arg-type]


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


# ------------------------------------------------------------------------------ JiebaTokenizer
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


# ------------------------------------------------------------------------------ DateExtractor
@pytest.mark.parametrize(
    "path", ["bot.nlu.date_extractor.DateExtractor", "bot.nlu.dates.DateExtractor"]
)
def test_date_extractor_is_registered_under_both_paths(path: str) -> None:
    registered = DefaultV1Recipe._from_registry(path)
    assert registered.clazz is DateExtractor
    assert registered.types == {DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR}
    assert registered.is_trainable is False


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


# ------------------------------------------------------------------------------ DatabaseGazetteer
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
    with caplog.at_level(logging.WARNING, logger="bot.nlu.gazetteer"):
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


# ------------------------------------------------------------------------------ in a Rasa graph
def test_components_form_a_valid_rasa_graph(tmp_path: Path) -> None:
    """Rasa validates signatures, type hints and component order for the config."""
    from rasa.engine.validation import validate
    from rasa.shared.data import TrainingType

    config = {
        "recipe": "default.v1",
        "language": "zh",
        "pipeline": [
            {"name": "bot.nlu.normalizer.TextNormalizer"},
            {"name": "bot.nlu.tokenizer.JiebaTokenizer"},
            {"name": "CountVectorsFeaturizer"},
            {"name": "DIETClassifier", "epochs": 1},
            {"name": "bot.nlu.date_extractor.DateExtractor"},
            {"name": "bot.nlu.gazetteer.DatabaseGazetteer"},
        ],
        "policies": [],
    }
    model_config = DefaultV1Recipe().graph_config_for_recipe(
        config, {}, training_type=TrainingType.NLU
    )
    validate(model_config)
    predict_nodes = model_config.predict_schema.nodes
    order = [name for name in predict_nodes if name.startswith("run_")]
    assert order.index("run_bot.nlu.normalizer.TextNormalizer0") < order.index(
        "run_bot.nlu.tokenizer.JiebaTokenizer1"
    )
    assert "run_bot.nlu.normalizer.TextNormalizer0" in model_config.train_schema.nodes


# ------------------------------------------------------------------------------ training
def test_every_training_is_full_and_leaves_no_rasa_cache() -> None:
    from ops.training import rasa_train_command, uncached_env

    env = uncached_env({"KEEP": "1"})
    assert env == {"KEEP": "1", "RASA_MAX_CACHE_SIZE": "0"}
    command = rasa_train_command(Path("out"), "name")
    assert command[command.index("train") + 1] == "--force"
