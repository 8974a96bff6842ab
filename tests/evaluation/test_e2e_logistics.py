"""The `logistics` and `not_fact` checks of evaluation/e2e.py read the event database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import paths
from bot.db import EventDB, load_seed
from bot.db.edits import FactEditor
from evaluation.e2e import Expectations, Reply


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("e2e_logistics") / "event.db"
    load_seed(paths.SEED_DIR, f"sqlite:///{path}")
    return f"sqlite:///{path}"


def test_not_announced_needs_the_words_and_a_button(url: str) -> None:
    expect = Expectations(EventDB(url))
    said = "网络安全博览会的门票和入场信息目前尚未正式公布。"
    assert expect.problems({"logistics": "admission@expo"}, "zh", Reply(said, ("人工服务",))) == []
    assert expect.problems({"logistics": "admission@expo"}, "zh", Reply(said, ()))
    assert expect.problems({"logistics": "admission@expo"}, "zh", Reply("博览会9月7日开幕", ("x",)))
    unknown = expect.problems({"logistics": "admission@atlantis"}, "zh", Reply(said, ("x",)))
    assert unknown and "not in the event database" in unknown[0]


def test_an_announced_text_must_be_said(url: str, tmp_path: Path) -> None:
    copy = tmp_path / "event.db"
    shutil.copy(url.removeprefix("sqlite:///"), copy)
    editor = FactEditor(f"sqlite:///{copy}")
    texts = {"text_zh": "会场提供免费Wi-Fi。", "text_en": "Free Wi-Fi on site."}
    editor.update("logistics", "week_wifi", {**texts, "confirmed": True}, "ann")
    editor.dispose()
    expect = Expectations(EventDB(f"sqlite:///{copy}"))
    # no record for the expo's Wi-Fi: the week's text holds for it
    assert expect.problems({"logistics": "wifi@expo"}, "en", Reply(texts["text_en"], ())) == []
    assert expect.problems({"logistics": "wifi@expo"}, "en", Reply("not announced yet", ("x",)))


def test_not_fact_refuses_an_unrelated_fact(url: str) -> None:
    db = EventDB(url)
    expect = Expectations(db)
    fact = db.fact("recruitment_audience").text("zh")
    assert expect.problems({"not_fact": "recruitment_audience"}, "zh", Reply(fact, ()))
    assert expect.problems({"not_fact": "recruitment_audience"}, "zh", Reply("尚未公布", ())) == []
