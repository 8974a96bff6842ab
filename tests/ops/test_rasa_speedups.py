"""ops.rasa_speedups: Rasa's results, less of Rasa's per-turn work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import scipy.sparse
import tensorflow as tf
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.features import Features
from rasa.utils.tensorflow.models import RasaModel
from tensorflow.types.experimental import ConcreteFunction

from ops.rasa_speedups import (
    install_direct_prediction_calls,
    install_fast_sparse_feature_combining,
    install_kept_domain_emptiness,
)


@pytest.fixture()
def fast_combining(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Features, "_combine_sparse_features", Features._combine_sparse_features)
    install_fast_sparse_feature_combining()
    yield


@pytest.fixture()
def kept_emptiness(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Domain, "is_empty", Domain.is_empty)
    install_kept_domain_emptiness()
    yield


def _features(matrix: scipy.sparse.spmatrix, origin: str) -> Features:
    return Features(matrix, "sequence", "text", origin)


def test_features_are_combined_as_rasa_does(fast_combining: None) -> None:
    left = scipy.sparse.coo_matrix(np.array([[1.0, 0.0], [0.0, 2.0]]))
    right = scipy.sparse.coo_matrix(np.array([[0.0, 3.0, 0.0], [4.0, 0.0, 5.0]]))
    combined = _features(left, "a")
    combined.combine_with_features(_features(right, "b"))
    assert combined.features.toarray().tolist() == [[1, 0, 0, 3, 0], [0, 2, 4, 0, 5]]


def test_features_of_different_lengths_raise_rasas_error(fast_combining: None) -> None:
    short = _features(scipy.sparse.coo_matrix(np.ones((1, 2))), "a")
    with pytest.raises(ValueError, match="sequence dimensions do not match"):
        short.combine_with_features(_features(scipy.sparse.coo_matrix(np.ones((2, 2))), "b"))


def test_a_domain_is_serialised_once_to_learn_it_is_not_empty(
    kept_emptiness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain = Domain.from_dict({"intents": ["greet"], "responses": {"utter_hi": [{"text": "hi"}]}})
    serialised: list[int] = []
    as_dict = Domain.as_dict

    def counted(self: Domain) -> dict[str, object]:
        serialised.append(1)
        return as_dict(self)

    monkeypatch.setattr(Domain, "as_dict", counted)
    assert [domain.is_empty() for _ in range(3)] == [False, False, False]
    assert len(serialised) == 2  # the domain and an empty one, once
    assert Domain.empty().is_empty() and Domain.empty().is_empty()  # an empty one: Rasa's way


class _Doubler(RasaModel):
    """A RasaModel whose prediction doubles its input; counts how often it is traced."""

    traces = 0

    def batch_predict(self, batch_in: tuple[Any, ...]) -> dict[str, Any]:
        _Doubler.traces += 1  # Python runs only while TensorFlow traces
        return {"doubled": batch_in[0] * 2.0, "rows": tf.shape(batch_in[0])[0]}


@pytest.fixture()
def direct_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(RasaModel, "_rasa_predict", RasaModel._rasa_predict)
    install_direct_prediction_calls()
    yield


def test_predictions_call_the_traced_function_directly_with_rasas_results(
    direct_calls: None,
) -> None:
    model = _Doubler(random_seed=1)
    batches = [
        (np.ones((1, 3), np.float32),),
        (np.arange(6, dtype=np.float32).reshape(2, 3),),
    ]
    outputs = [model._rasa_predict(batch) for batch in batches * 2]
    assert isinstance(model._tf_predict_step, ConcreteFunction)
    assert _Doubler.traces == 1  # one trace serves every batch, as with Rasa's tf.function
    for batch, output in zip(batches * 2, outputs):
        assert output["doubled"].tolist() == (batch[0] * 2).tolist()
        assert output["rows"] == batch[0].shape[0]
