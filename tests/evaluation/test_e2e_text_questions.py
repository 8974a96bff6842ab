"""The end-to-end questions of every category are well-formed: they load, use known checks,
and every key they name is in the event database (no server, no model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import paths
from bot.db import EventDB, load_seed
from bot.lang import language_of
from evaluation.e2e import QUESTIONS_DIR, Expectations, Reply, load_questions

FILES = sorted(path.stem for path in Path(QUESTIONS_DIR).glob("*.yml"))


@pytest.fixture(scope="module")
def expectations(tmp_path_factory: pytest.TempPathFactory) -> Expectations:
    path = tmp_path_factory.mktemp("e2e_text") / "event.db"
    load_seed(paths.SEED_DIR, f"sqlite:///{path}")
    return Expectations(EventDB(f"sqlite:///{path}"))


@pytest.mark.parametrize("name", FILES)
def test_questions_name_known_checks_and_keys(name: str, expectations: Expectations) -> None:
    questions = load_questions(Path(QUESTIONS_DIR) / f"{name}.yml")
    assert len(questions) >= 10
    for question in questions:
        last = question["ask"][-1] if isinstance(question["ask"], list) else question["ask"]
        problems = expectations.problems(question["expect"], language_of(last), Reply("", ()))
        broken = [p for p in problems if "unknown check" in p or "not in the event" in p]
        assert broken == [], (question, broken)
        assert problems, f"an empty reply passes {question}: the check cannot fail"
