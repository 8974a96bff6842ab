"""The held-out NLU set must share no example with the training data.

Texts are compared after lower-casing, Traditional -> Simplified conversion (the TextNormalizer
does the same before tokenisation) and removal of punctuation and whitespace, so that
"開幕式在哪裡？" and "开幕式在哪里" count as the same example.
"""

from __future__ import annotations

import re
from pathlib import Path

import opencc
import pytest
from rasa.shared.nlu.training_data.loading import load_data

from bot import paths
from evaluation import HOLDOUT_DIR

TRAIN_DIR = paths.DATA_DIR / "nlu"
HOLDOUT = HOLDOUT_DIR

_T2S = opencc.OpenCC("t2s")
# \W covers ASCII and CJK punctuation (，。？！“” …) and whitespace; "_" is a word character.
_NOT_CONTENT = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    return _NOT_CONTENT.sub("", _T2S.convert(text.lower()))


def _examples(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Normalised text -> [(original text, intent)] for every example in a file or directory."""
    found: dict[str, list[tuple[str, str]]] = {}
    for example in load_data(str(path)).intent_examples:
        text = example.get("text")
        found.setdefault(normalise(text), []).append((text, example.get("intent")))
    return found


@pytest.fixture(scope="module")
def train() -> dict[str, list[tuple[str, str]]]:
    return _examples(TRAIN_DIR)


@pytest.fixture(scope="module")
def holdout() -> dict[str, list[tuple[str, str]]]:
    return _examples(HOLDOUT)


def test_holdout_is_large_enough(holdout: dict[str, list[tuple[str, str]]]) -> None:
    assert sum(len(v) for v in holdout.values()) >= 200


def test_holdout_covers_every_trained_intent(train, holdout) -> None:
    trained = {intent for pairs in train.values() for _, intent in pairs}
    held = {intent for pairs in holdout.values() for _, intent in pairs}
    assert trained - held == set(), f"intents without held-out examples: {sorted(trained - held)}"


def test_holdout_shares_no_example_with_training_data(train, holdout) -> None:
    overlap = sorted(
        f"{h_text!r} ({h_intent}) == training {t_text!r} ({t_intent})"
        for key in holdout.keys() & train.keys()
        for h_text, h_intent in holdout[key]
        for t_text, t_intent in train[key][:1]
    )
    if overlap:
        pytest.fail("held-out examples also in data/nlu:\n" + "\n".join(overlap), pytrace=False)


def test_holdout_has_no_internal_duplicates(holdout) -> None:
    repeated = sorted(str(pairs) for pairs in holdout.values() if len(pairs) > 1)
    if repeated:
        pytest.fail("repeated held-out examples:\n" + "\n".join(repeated), pytrace=False)
