"""BlendedLogisticRegressionClassifier: trained on a tiny data set with Rasa's own featurizer."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.blend import BlendedLogisticRegressionClassifier, blend

TRAINING = {
    "ask_venue": ["where is the expo", "where is the forum", "which hall is it in", "where is it"],
    "ask_schedule": ["what is on today", "what is on friday", "schedule for today", "agenda"],
    "greet": ["hello", "hi there", "good morning", "hey"],
}


def test_blend_weights_the_two_rankings() -> None:
    ranking = blend({"a": 0.8, "b": 0.2}, {"a": 0.2, "b": 0.6, "c": 0.2}, weight=0.5)
    assert [entry["name"] for entry in ranking] == ["a", "b", "c"]
    assert [entry["confidence"] for entry in ranking] == pytest.approx([0.5, 0.4, 0.1])


def test_blend_weight_zero_keeps_the_previous_ranking() -> None:
    ranking = blend({"a": 0.7, "b": 0.3}, {"a": 0.1, "b": 0.9}, weight=0.0)
    assert ranking[0] == {"name": "a", "confidence": pytest.approx(0.7)}


def test_blend_without_previous_ranking_uses_its_own() -> None:
    ranking = blend({}, {"a": 0.1, "b": 0.9}, weight=0.5)
    assert ranking[0] == {"name": "b", "confidence": pytest.approx(0.9)}


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), uuid.uuid4().hex)


def _featurize(
    messages: list[Message], featurizer: CountVectorsFeaturizer, training: bool = False
) -> None:
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    if training:
        data = TrainingData(training_examples=messages)
        tokenizer.process_training_data(data)
        featurizer.train(data)
        featurizer.process_training_data(data)
    else:
        tokenizer.process(messages)
        featurizer.process(messages)


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


@pytest.fixture
def featurizer(storage: LocalModelStorage) -> CountVectorsFeaturizer:
    return CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("cv"), _context()
    )


@pytest.fixture
def trained(
    storage: LocalModelStorage, featurizer: CountVectorsFeaturizer
) -> BlendedLogisticRegressionClassifier:
    examples = [
        Message(data={TEXT: text, INTENT: intent})
        for intent, texts in TRAINING.items()
        for text in texts
    ]
    _featurize(examples, featurizer, training=True)
    classifier = BlendedLogisticRegressionClassifier.create(
        BlendedLogisticRegressionClassifier.get_default_config(),
        storage,
        Resource("blend"),
        _context(),
    )
    classifier.train(TrainingData(training_examples=examples))
    return classifier


def _parse(
    classifier: BlendedLogisticRegressionClassifier,
    featurizer: CountVectorsFeaturizer,
    text: str,
    previous: list[dict] | None = None,
) -> Message:
    message = Message(data={TEXT: text})
    if previous is not None:
        message.set(INTENT_RANKING_KEY, previous)
        message.set(INTENT, previous[0])
    _featurize([message], featurizer)
    classifier.process([message])
    return message


def test_alone_it_classifies_like_a_logistic_regression(
    trained: BlendedLogisticRegressionClassifier, featurizer: CountVectorsFeaturizer
) -> None:
    assert _parse(trained, featurizer, "where is the forum").get(INTENT)["name"] == "ask_venue"


def test_a_confident_previous_ranking_is_tempered_not_replaced(
    trained: BlendedLogisticRegressionClassifier, featurizer: CountVectorsFeaturizer
) -> None:
    wrong_but_sure = [
        {"name": "greet", "confidence": 0.99},
        {"name": "ask_venue", "confidence": 0.01},
    ]
    parsed = _parse(trained, featurizer, "where is the expo", previous=wrong_but_sure)
    ranking = parsed.get(INTENT_RANKING_KEY)
    confidences = {entry["name"]: entry["confidence"] for entry in ranking}
    own = _parse(trained, featurizer, "where is the expo").get(INTENT_RANKING_KEY)
    own_confidences = {entry["name"]: entry["confidence"] for entry in own}
    for intent in ("greet", "ask_venue"):
        expected = 0.5 * (0.99 if intent == "greet" else 0.01) + 0.5 * own_confidences[intent]
        assert confidences[intent] == pytest.approx(expected)
    assert confidences["ask_venue"] > confidences["ask_schedule"]
    assert sum(confidences.values()) == pytest.approx(1.0)
    assert parsed.get(INTENT) == ranking[0]


def test_survives_persist_and_load(
    trained: BlendedLogisticRegressionClassifier,
    storage: LocalModelStorage,
    featurizer: CountVectorsFeaturizer,
) -> None:
    loaded = BlendedLogisticRegressionClassifier.load(
        BlendedLogisticRegressionClassifier.get_default_config(),
        storage,
        Resource("blend"),
        _context(),
    )
    assert loaded.clf.C == trained.clf.C == 10.0
    assert _parse(loaded, featurizer, "agenda for friday").get(INTENT)["name"] == "ask_schedule"


def test_a_message_without_features_gets_a_ranking_instead_of_an_error(
    trained: BlendedLogisticRegressionClassifier,
) -> None:
    message = Message(data={TEXT: ""})
    trained.process([message])
    assert message.get(INTENT)["name"] in TRAINING


def test_rejects_a_blend_weight_outside_zero_to_one(storage: LocalModelStorage) -> None:
    with pytest.raises(ValueError, match="blend_weight"):
        BlendedLogisticRegressionClassifier.create(
            {**BlendedLogisticRegressionClassifier.get_default_config(), "blend_weight": 1.5},
            storage,
            Resource("blend"),
            _context(),
        )
