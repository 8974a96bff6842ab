"""DIET's input built straight from a message's features (ops/diet_input.py), against Rasa's."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message

from bot import paths
from ops import diet_input
from ops.diet_input import install_direct_diet_input, message_batch, rasa_batch, same_batches
from ops.rasa_speedups import install_fast_sparse_feature_combining
from tests.ops.rasa_functions import restore_rasa_speedups


@pytest.fixture()
def served_combining(monkeypatch: pytest.MonkeyPatch) -> None:
    """Features joined as a served Rasa joins them (ops.rasa_speedups)."""
    restore_rasa_speedups(monkeypatch)
    install_fast_sparse_feature_combining()


@pytest.fixture()
def direct_input(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    restore_rasa_speedups(monkeypatch)
    install_direct_diet_input()
    yield


def _untrained(component: type[DIETClassifier], tmp_path: Path) -> DIETClassifier:
    return component.create(
        component.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource(component.__name__),
        ExecutionContext(GraphSchema({}), "test"),
    )


@st.composite
def featurized_messages(draw: st.DrawFn) -> Message:
    """A text featurized by one to three sparse featurizers (csr or coo, repeated entries,
    empty rows), plus features of other attributes that DIET does not read."""
    tokens = draw(st.integers(1, 6))
    message = Message({"text": "x " * tokens})
    for number in range(draw(st.integers(1, 3))):
        columns = draw(st.integers(1, 40))
        for kind, rows in (("sequence", tokens), ("sentence", 1)):
            density = draw(st.floats(0.0, 0.5))
            seed = draw(st.integers(0, 2**16))
            matrix = scipy.sparse.random(rows, columns, density, random_state=seed)
            matrix = matrix.tocsr() if draw(st.booleans()) else matrix.tocoo()
            message.add_features(Features(matrix, kind, "text", f"featurizer_{number}"))
    message.add_features(Features(scipy.sparse.eye(1, 5, format="coo"), "sentence", "intent", "x"))
    return message


# the fixture installs Rasa's served feature joining once; every example builds its own DIET
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(message=featurized_messages())
def test_a_messages_batch_is_rasas_array_for_array(
    message: Message, served_combining: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    diet = _untrained(DIETClassifier, tmp_path_factory.mktemp("diet"))
    ours = message_batch(message, [])
    rasas = rasa_batch(diet, message)
    assert ours is not None and len(ours) == 8
    assert same_batches(ours, rasas)


def test_only_the_named_featurizers_are_read(served_combining: None, tmp_path: Path) -> None:
    message = Message({"text": "a b"})
    for origin in ("kept", "ignored"):
        message.add_features(
            Features(scipy.sparse.eye(2, 3, format="coo"), "sequence", "text", origin)
        )
        message.add_features(
            Features(scipy.sparse.eye(1, 3, format="coo"), "sentence", "text", origin)
        )
    diet = _untrained(DIETClassifier, tmp_path)
    diet.component_config["featurizers"] = ["kept"]
    ours = message_batch(message, ["kept"])
    assert ours is not None and ours[3].tolist() == [1, 1, 3]  # one featurizer's columns
    assert same_batches(ours, rasa_batch(diet, message))


def test_messages_without_sparse_text_features_are_left_to_rasa() -> None:
    bare = Message({"text": "hi"})
    dense = Message({"text": "hi"})
    dense.add_features(Features(scipy.sparse.eye(1, 3, format="coo"), "sentence", "text", "a"))
    dense.add_features(Features(scipy.sparse.eye(1, 3, format="coo"), "sequence", "text", "a"))
    dense.add_features(Features(np.ones((1, 4)), "sentence", "text", "dense"))
    assert message_batch(bare, []) is None
    assert message_batch(dense, []) is None


def test_batches_differing_in_any_way_are_not_the_same() -> None:
    batch = (np.ones((1, 1, 1), np.float32), np.array([[0, 0, 1]], np.int64))
    assert same_batches(batch, tuple(array.copy() for array in batch))
    assert not same_batches(batch, (batch[0], np.array([[0, 0, 2]], np.int64)))
    assert not same_batches(batch, (batch[0], batch[1].astype(np.int32)))
    assert not same_batches(batch, batch[:1])
    assert not same_batches(batch, None)


class _Model:
    """Stands in for DIET's trained model: records the batches it is given."""

    def __init__(self) -> None:
        self.batches: list[tuple[Any, ...]] = []

    def _rasa_predict(self, batch: tuple[Any, ...]) -> dict[str, Any]:
        self.batches.append(batch)
        return {"batch": len(self.batches)}

    def run_inference(self, model_data: Any) -> dict[str, Any]:  # Rasa's path
        return {"rasa": True}


def _message(columns: int = 4) -> Message:
    message = Message({"text": "a b"})
    message.add_features(
        Features(scipy.sparse.eye(2, columns, format="coo"), "sequence", "text", "a")
    )
    message.add_features(
        Features(scipy.sparse.eye(1, columns, format="coo"), "sentence", "text", "a")
    )
    return message


def test_the_first_message_is_checked_then_batches_go_straight_to_the_model(
    direct_input: None, tmp_path: Path
) -> None:
    diet = _untrained(DIETClassifier, tmp_path)
    diet.model = _Model()  # type: ignore[assignment]
    assert diet._predict(_message()) == {"batch": 1}
    assert diet.__dict__[diet_input.VERDICT] is True
    assert diet._predict(_message(6)) == {"batch": 2}
    assert diet.model.batches[1][3].tolist() == [1, 1, 6]  # type: ignore[union-attr]


def test_a_model_whose_input_differs_keeps_rasas_path(
    direct_input: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    diet = _untrained(DIETClassifier, tmp_path)
    diet.model = _Model()  # type: ignore[assignment]
    monkeypatch.setattr(diet_input, "rasa_batch", lambda *_: (np.zeros(1),))
    with caplog.at_level(logging.WARNING, logger="ops.diet_input"):
        assert diet._predict(_message()) == {"rasa": True}
    assert diet._predict(_message()) == {"rasa": True}
    assert diet.model.batches == []  # type: ignore[union-attr]
    assert "Rasa's path is kept" in caplog.text


def test_other_components_keep_rasas_path(direct_input: None, tmp_path: Path) -> None:
    selector = _untrained(ResponseSelector, tmp_path)
    selector.model = _Model()  # type: ignore[assignment]
    assert DIETClassifier._predict(selector, _message()) == {"rasa": True}


def test_install_is_idempotent(direct_input: None) -> None:
    predict = DIETClassifier._predict
    install_direct_diet_input()
    assert DIETClassifier._predict is predict


@pytest.mark.timeout(600)
def test_the_trained_models_batches_are_rasas(
    trained_model: Path, server_env: dict[str, str]
) -> None:
    """Every training text and held-out question (a sample), parsed by the served pipeline:
    our batch equals Rasa's array for array."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.ops.diet_batches", str(trained_model), "--every", "6"],
        cwd=paths.REPO_ROOT,
        env={**server_env, "RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts["compared"] >= 1000
    assert counts["differing"] == [], counts["differing"][:5]
    assert counts["left_to_rasa"] <= 2  # the empty texts, which have no features
