"""BlendedLogisticRegressionClassifier: trained on a tiny data set with Rasa's own featurizer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.blend import BlendedLogisticRegressionClassifier, blend
from tests.bot.nlu.helpers import execution_context

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
        CountVectorsFeaturizer.get_default_config(), storage, Resource("cv"), execution_context()
    )


@pytest.fixture
def trained(
    storage: LocalModelStorage, featurizer: CountVectorsFeaturizer
) -> BlendedLogisticRegressionClassifier:
    return _trained_on(TRAINING, storage, featurizer, "blend")


def _trained_on(
    training: dict[str, list[str]],
    storage: LocalModelStorage,
    featurizer: CountVectorsFeaturizer,
    name: str,
) -> BlendedLogisticRegressionClassifier:
    examples = [
        Message(data={TEXT: text, INTENT: intent})
        for intent, texts in training.items()
        for text in texts
    ]
    _featurize(examples, featurizer, training=True)
    classifier = BlendedLogisticRegressionClassifier.create(
        BlendedLogisticRegressionClassifier.get_default_config(),
        storage,
        Resource(name),
        execution_context(),
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
        execution_context(),
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
            execution_context(),
        )


# --- served messages: the one-vs-rest scores summed part by part, as sklearn computes them

QUESTIONS = [
    "where is the expo",
    "hello",
    "agenda for friday morning",
    "unknown words only zzz",
    "where where where is it today",
    "",
]


def _with_length_feature(messages: list[Message]) -> None:
    """A dense sentence feature beside the sparse ones (a dense featurizer's output)."""
    for message in messages:
        length = np.array([[len(message.get(TEXT) or ""), 1.0]])
        message.add_features(Features(length, FEATURE_TYPE_SENTENCE, TEXT, "length"))


@pytest.fixture
def many_parts(
    storage: LocalModelStorage, featurizer: CountVectorsFeaturizer
) -> tuple[BlendedLogisticRegressionClassifier, list[CountVectorsFeaturizer]]:
    """A classifier over word counts, char n-gram counts and a dense feature."""
    chars = CountVectorsFeaturizer.create(
        {
            **CountVectorsFeaturizer.get_default_config(),
            "analyzer": "char_wb",
            "min_ngram": 1,
            "max_ngram": 3,
        },
        storage,
        Resource("cv-chars"),
        execution_context(),
    )
    examples = [
        Message(data={TEXT: text, INTENT: intent})
        for intent, texts in TRAINING.items()
        for text in texts
    ]
    data = TrainingData(training_examples=examples)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    for each in (featurizer, chars):
        each.train(data)
        each.process_training_data(data)
    _with_length_feature(examples)
    classifier = BlendedLogisticRegressionClassifier.create(
        BlendedLogisticRegressionClassifier.get_default_config(),
        storage,
        Resource("blend-parts"),
        execution_context(),
    )
    classifier.train(data)
    return classifier, [featurizer, chars]


def _served(text: str, featurizers: list[CountVectorsFeaturizer]) -> Message:
    message = Message(data={TEXT: text})
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    for each in featurizers:
        each.process([message])
    _with_length_feature([message])
    return message


def test_served_probabilities_are_sklearns(
    many_parts: tuple[BlendedLogisticRegressionClassifier, list[CountVectorsFeaturizer]],
) -> None:
    classifier, featurizers = many_parts
    messages = [_served(text, featurizers) for text in QUESTIONS]
    expected = classifier.clf.predict_proba(classifier._create_X(messages))
    assert np.allclose(classifier._probabilities(messages), expected, rtol=1e-12, atol=1e-15)
    for message, row in zip(messages, expected):
        assert np.allclose(classifier._probabilities([message])[0], row, rtol=1e-12, atol=1e-15)


def test_served_messages_skip_sklearns_predict_proba(
    many_parts: tuple[BlendedLogisticRegressionClassifier, list[CountVectorsFeaturizer]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    classifier, featurizers = many_parts
    message = _served("where is the forum", featurizers)

    def refuse(_: object) -> None:
        raise AssertionError("predict_proba called")

    monkeypatch.setattr(classifier.clf, "predict_proba", refuse)
    classifier.process([message])
    assert message.get(INTENT)["name"] == "ask_venue"


def test_a_refitted_model_is_used_at_once(
    trained: BlendedLogisticRegressionClassifier, featurizer: CountVectorsFeaturizer
) -> None:
    before = _parse(trained, featurizer, "where is the expo").get(INTENT_RANKING_KEY)
    trained.clf.coef_ = -trained.clf.coef_  # as a new fit replaces the array
    after = _parse(trained, featurizer, "where is the expo").get(INTENT_RANKING_KEY)
    assert before[0]["name"] == "ask_venue" != after[0]["name"]


def test_two_classes_go_through_sklearn(
    storage: LocalModelStorage, featurizer: CountVectorsFeaturizer
) -> None:
    two = {intent: TRAINING[intent] for intent in ("ask_venue", "greet")}
    classifier = _trained_on(two, storage, featurizer, "blend-two")
    messages = [_parse(classifier, featurizer, text) for text in ("hello", "where is it")]
    expected = classifier.clf.predict_proba(classifier._create_X(messages))
    assert np.allclose(classifier._probabilities(messages), expected)
    assert [m.get(INTENT)["name"] for m in messages] == ["greet", "ask_venue"]
