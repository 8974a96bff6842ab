"""DIET's input for one served message, built straight from the message's features (#14).

To classify one message Rasa runs training's machinery: `_create_model_data` (the features
combined through deep copies, fake zero features, `FeatureArray`s, a `RasaModelData` with its
sizes and a sort) and a batch generator, about 8% of a turn's time in Rasa's lock at 20
visitors. For a message whose text has sparse features only, as in our pipeline, the batch is
eight arrays: the text's turn mask; the sentence features and the sequence features, each as
indices, values and shape; the sequence's length. `message_batch` builds those from the
message's matrices. Each DIET instance compares it, array for array, with Rasa's own batch for
the first message it serves, and keeps Rasa's path for good if they differ (a newer Rasa, dense
features, another layout). Other messages and components take Rasa's path.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse

logger = logging.getLogger(__name__)

# The instance's verdict on our batches: True (equal to Rasa's), False (Rasa's path for good).
VERDICT = "_cyberweek_batches_checked"

TEXT = "text"
SENTENCE = "sentence"
SEQUENCE = "sequence"


def message_batch(message: Any, featurizers: Sequence[str]) -> tuple[np.ndarray, ...] | None:
    """Rasa's prediction batch for one message, or None where its features are not sparse
    sentence and sequence features only (Rasa's path then decides)."""
    sentence, sequence = _sparse_text_features(message, featurizers)
    if not sentence or not sequence:
        return None
    sequence_values = _values(sequence)
    sequence_length = sequence_values[2][1]
    return (
        np.ones((1, 1, 1), np.float32),  # one turn, present
        *_values(sentence),
        *sequence_values,
        np.array([sequence_length], np.float32),
    )


def _sparse_text_features(message: Any, featurizers: Sequence[str]) -> tuple[list[Any], list[Any]]:
    """The text's sentence and sequence matrices in the message's order (Rasa's
    `_filter_sparse_features`); nothing at all when a dense feature is there too."""
    sentence: list[Any] = []
    sequence: list[Any] = []
    for feature in message.features:
        if feature.attribute != TEXT or (featurizers and feature.origin not in featurizers):
            continue
        if not feature.is_sparse():
            return [], []
        if feature.type == SENTENCE:
            sentence.append(feature.features)
        elif feature.type == SEQUENCE:
            sequence.append(feature.features)
    return sentence, sequence


def _values(matrices: list[scipy.sparse.spmatrix]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices (example, row, column), values and shape of the matrices joined side by side
    (as Rasa's served feature joining does, `bot.nlu.sparse.joined`), as Rasa's
    `_scipy_matrix_to_values` gives them for a batch of one."""
    from bot.nlu.sparse import joined

    matrix = joined(matrices)
    indices = np.zeros((matrix.nnz, 3), np.int64)
    indices[:, 1] = matrix.row
    indices[:, 2] = matrix.col
    return indices, matrix.data.astype(np.float32), np.array((1, *matrix.shape), np.int64)


def rasa_batch(diet: Any, message: Any) -> tuple[Any, ...] | None:
    """The batch Rasa's own path gives DIET's model for this message."""
    from rasa.utils.train_utils import create_data_generators

    model_data = diet._create_model_data([message], training=False)
    if model_data.is_empty():
        return None
    generator, _ = create_data_generators(
        model_data=model_data, batch_sizes=1, epochs=1, shuffle=False
    )
    batches = [batch[0] for batch in generator]
    return batches[0] if len(batches) == 1 else None


def same_batches(ours: Sequence[Any] | None, rasas: Sequence[Any] | None) -> bool:
    """Array for array: as many, each of the same dtype, shape and values."""
    if ours is None or rasas is None or len(ours) != len(rasas):
        return False
    return all(
        isinstance(a, np.ndarray)
        and isinstance(b, np.ndarray)
        and a.dtype == b.dtype
        and a.shape == b.shape
        and np.array_equal(a, b)
        for a, b in zip(ours, rasas)
    )


def install_direct_diet_input() -> None:
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    rasa_predict = DIETClassifier._predict
    if getattr(rasa_predict, "builds_input_directly", False):
        return

    def _predict(self: DIETClassifier, message: Any) -> Any:
        verdict = self.__dict__.get(VERDICT)
        if self.model is None or verdict is False or type(self) is not DIETClassifier:
            return rasa_predict(self, message)
        batch = message_batch(message, self.component_config["featurizers"])
        if batch is None:
            return rasa_predict(self, message)
        if verdict is None and not _agrees_with_rasa(self, message, batch):
            return rasa_predict(self, message)
        return self.model._rasa_predict(batch)

    _predict.builds_input_directly = True  # type: ignore[attr-defined]
    DIETClassifier._predict = _predict  # type: ignore[method-assign]


def _agrees_with_rasa(diet: Any, message: Any, batch: tuple[np.ndarray, ...]) -> bool:
    """Checks the instance's first batch against Rasa's and keeps the verdict."""
    agrees = same_batches(batch, rasa_batch(diet, message))
    diet.__dict__[VERDICT] = agrees
    if not agrees:
        logger.warning("DIET's input differs from Rasa's for this model: Rasa's path is kept")
    return agrees
