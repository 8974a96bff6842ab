"""BlendedLogisticRegressionClassifier: DIET's intent ranking averaged with a logistic regression's.

DIET and a linear model over the same sparse features make different mistakes: DIET learns
word order and context but, on ~2,000 examples, latches on to single tokens (a date pulls a
question about the weather into ask_schedule); the linear model weighs every word and character
n-gram of the sentence and nothing else. Their average beats either alone on the held-out set
(docs/decisions.md).

Rasa's own LogisticRegressionClassifier does the training, featurising (the featurizers'
sentence vectors) and persisting (skops, not pickle); this subclass only makes the
regularisation configurable and blends its ranking with the one DIET left on the message
instead of replacing it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse
import scipy.special

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import RANKING_LENGTH

from bot.nlu.sparse import joined


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BlendedLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Logistic regression whose probabilities are averaged with the previous classifier's."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **LogisticRegressionClassifier.get_default_config(),
            # inverse regularisation strength; sklearn's default of 1 underfits the raw
            # n-gram counts (docs/decisions.md)
            "C": 10.0,
            # one-vs-rest liblinear: as accurate in the blend as multinomial lbfgs and
            # several times faster to train (docs/decisions.md)
            "solver": "liblinear",
            # share of this model in the blend; 0 keeps the previous ranking, 1 replaces it
            "blend_weight": 0.5,
        }

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)  # merges get_default_config()
        weight = float(self.config["blend_weight"])
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"blend_weight must be between 0 and 1, got {weight}")
        self.clf.set_params(C=float(self.config["C"]))

    def _create_X(self, messages: list[Message]) -> scipy.sparse.csr_matrix:  # noqa: N802
        """The featurizers' sentence vectors, one row per message.

        Rasa's version goes through Message.get_sparse_features, which also concatenates every
        message's sequence features only to drop them, and fails on a message that has no
        features at all.
        """
        rows = [_sentence_vector(message) for message in messages]
        width = getattr(self.clf, "n_features_in_", None)  # set once trained
        if width is not None:
            # a message the featurizers left without features (nothing to tokenize) is
            # classified from the intercepts alone instead of breaking the batch
            rows = [r if r.shape[1] == width else scipy.sparse.csr_matrix((1, width)) for r in rows]
        if len(rows) == 1:  # a served message
            return rows[0]
        return scipy.sparse.vstack(rows, format="csr")

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets the blended intent and ranking on each message."""
        if not messages:
            return messages
        probabilities = self._probabilities(messages)
        weight = float(self.config["blend_weight"])
        length = int(self.config[RANKING_LENGTH])
        for message, row in zip(messages, probabilities):
            own = {str(intent): float(p) for intent, p in zip(self.clf.classes_, row)}
            ranking = blend(_ranking_of(message), own, weight)
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(
                INTENT_RANKING_KEY, ranking[:length] if length > 0 else ranking, add_to_output=True
            )
        return messages

    def _probabilities(self, messages: list[Message]) -> np.ndarray:
        """`clf.predict_proba` of the messages' sentence vectors, one row per message.

        A served message is one short sentence: sklearn's input checks and the join of the
        featurizers' vectors into one matrix cost more than the arithmetic (~5% of a turn,
        #14), so one-vs-rest scores are summed from each featurizer's vector straight into
        the coefficients. Other fitted models (two classes, multinomial) go through sklearn.
        """
        if not _is_one_vs_rest(self.clf):
            return self.clf.predict_proba(self._create_X(messages))
        coefficients = self._coefficients_by_feature()
        scores = np.vstack([self._decision(message, coefficients) for message in messages])
        scipy.special.expit(scores, out=scores)  # as sklearn's _predict_proba_lr
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    def _coefficients_by_feature(self) -> np.ndarray:
        """coef_ with one row per feature (a message's few features pick rows), kept."""
        kept = self.__dict__.get("_kept_coefficients")
        if kept is None or kept[0] is not self.clf.coef_:  # first call, or fitted again
            kept = (self.clf.coef_, np.ascontiguousarray(self.clf.coef_.T))
            self._kept_coefficients = kept
        return kept[1]

    def _decision(self, message: Message, coefficients: np.ndarray) -> np.ndarray:
        """intercept + x @ coef.T for the message's sentence vector x, part by part."""
        score = np.zeros(coefficients.shape[1]) + self.clf.intercept_
        parts = _sentence_parts(message)
        if sum(part.shape[1] for part in parts) != coefficients.shape[0]:
            return score  # no features (nothing to tokenize): the intercepts alone, as before
        offset = 0
        for part in parts:
            if scipy.sparse.issparse(part):
                part = part.tocoo()
                score += part.data @ coefficients[offset + part.col]
            else:
                score += (
                    np.asarray(part).reshape(-1) @ coefficients[offset : offset + part.shape[1]]
                )
            offset += part.shape[1]
        return score


def _is_one_vs_rest(clf: Any) -> bool:
    """Whether sklearn's predict_proba is expit of the decision, normalised (_predict_proba_lr)."""
    return len(clf.classes_) > 2 and (
        clf.multi_class == "ovr" or (clf.multi_class == "auto" and clf.solver == "liblinear")
    )


def blend(previous: dict[str, float], own: dict[str, float], weight: float) -> list[dict[str, Any]]:
    """(1 - weight) * previous + weight * own per intent, as a ranking, best first.

    Without a previous ranking (no classifier ran before) the own probabilities are used as
    they are. An intent missing from one side (beyond DIET's ranking length) counts as 0 there.
    """
    if not previous:
        weight = 1.0
    intents = previous.keys() | own.keys()
    scores = {
        intent: (1.0 - weight) * previous.get(intent, 0.0) + weight * own.get(intent, 0.0)
        for intent in intents
    }
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: score} for name, score in ordered]


def _sentence_vector(message: Message) -> scipy.sparse.csr_matrix:
    """The message text's sentence-level features (sparse, then dense), side by side."""
    parts = [
        part if scipy.sparse.issparse(part) else scipy.sparse.csr_matrix(part)
        for part in _sentence_parts(message)
    ]
    if not parts:
        return scipy.sparse.csr_matrix((1, 0))
    return joined(parts).tocsr()


def _sentence_parts(message: Message) -> list[Any]:
    """The message text's sentence-level feature matrices: the sparse ones, then the dense."""
    sentence = [
        feature
        for feature in message.features
        if feature.attribute == TEXT and feature.type == FEATURE_TYPE_SENTENCE
    ]
    return [f.features for f in sentence if f.is_sparse()] + [
        f.features for f in sentence if f.is_dense()
    ]


def _ranking_of(message: Message) -> dict[str, float]:
    """The intent probabilities an earlier classifier (DIET) left on the message."""
    ranking = message.get(INTENT_RANKING_KEY) or []
    return {
        str(entry[INTENT_NAME_KEY]): float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        for entry in ranking
        if isinstance(entry, dict) and entry.get(INTENT_NAME_KEY)
    }
