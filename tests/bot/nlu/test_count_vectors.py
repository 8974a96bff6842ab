"""bot.nlu.count_vectors: sklearn's CountVectorizer.transform matrices, and Rasa's features."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

import bot.nlu.count_vectors
from bot.nlu.count_vectors import CountMatrix, counts
from tests.bot.nlu.helpers import execution_context
from ops.rasa_speedups import install_fast_count_vectors

CORPUS = [
    "请问 开幕式 在 哪里",
    "开幕式 几点 开始",
    "Where is the opening ceremony",
    "IFF 国际金融论坛 在 南沙",
    "展会 门票 多少钱",
    "what time does the Expo open",
    "个人信息保护日 有 什么 活动",
    "hello 你好 hi",
]
# as Rasa builds them from config.yml's two featurizers (lowercase: True)
ANALYZERS: dict[str, dict[str, Any]] = {
    "word": {"token_pattern": r"(?u)\b\w+\b", "lowercase": True},
    "char_wb": {
        "analyzer": "char_wb",
        "ngram_range": (1, 4),
        "lowercase": True,
        "token_pattern": None,
    },
}
DOCUMENTS = {
    "tokens": ["请问", "开幕式", "在", "哪里"],
    "sentence": ["请问 开幕式 在 哪里"],
    "out of vocabulary": ["区块链", "blockchain", "开幕式"],
    "only out of vocabulary": ["区块链 blockchain"],
    "empty strings": ["", "开幕式", ""],
    "only an empty string": [""],
    "whitespace": ["   ", " 在  哪里 "],
    "one token": ["开幕式"],
    "repeated tokens": ["在", "在", "哪里", "在 在 在 哪里 哪里"],
    "mixed": ["IFF开幕式 where 在 哪里 Opening", "Expo展会", "WHERE Is The OPENING"],
    "punctuation and digits": ["？？开幕式！", "9月10号 2024", "hi!!! 你好。"],
    "no documents": [],
}


def _fitted(analyzer: str, **settings: Any) -> CountVectorizer:
    return CountVectorizer(**{**ANALYZERS[analyzer], **settings}).fit(CORPUS)


@pytest.fixture(params=[True, False], ids=["assembled", "scipy-constructors"])
def assembled(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both ways of building the matrix: by hand, and scipy's constructors (a newer scipy)."""
    monkeypatch.setattr(bot.nlu.count_vectors, "ASSEMBLED", request.param)
    return bool(request.param)


def assert_same_matrix(got: scipy.sparse.spmatrix, expected: scipy.sparse.spmatrix) -> None:
    """As sklearn's, then as Rasa uses it: sort_indices(), tocoo()."""
    assert isinstance(got, scipy.sparse.csr_matrix) and got.format == "csr"
    assert (got.shape, got.dtype) == (expected.shape, expected.dtype)
    assert (got.indices.dtype, got.indptr.dtype) == (expected.indices.dtype, expected.indptr.dtype)
    assert got.has_sorted_indices and expected.has_sorted_indices
    for ours, theirs in [(got.indptr, expected.indptr), (got.indices, expected.indices)]:
        assert ours.tolist() == theirs.tolist()
    assert got.data.tolist() == expected.data.tolist()
    assert got.toarray().tolist() == expected.toarray().tolist()
    got.sort_indices()
    expected.sort_indices()
    assert_same_coo(got.tocoo(), expected.tocoo())


def assert_same_coo(got: scipy.sparse.coo_matrix, expected: scipy.sparse.coo_matrix) -> None:
    assert type(got) is scipy.sparse.coo_matrix
    assert (got.shape, got.dtype, got.nnz) == (expected.shape, expected.dtype, expected.nnz)
    assert got.has_canonical_format == expected.has_canonical_format
    for ours, theirs in [
        (got.row, expected.row),
        (got.col, expected.col),
        (got.data, expected.data),
    ]:
        assert ours.dtype == theirs.dtype
        assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("documents", DOCUMENTS.values(), ids=DOCUMENTS.keys())
@pytest.mark.parametrize("analyzer", ANALYZERS)
def test_counts_are_sklearns_transform(
    analyzer: str, documents: list[str], assembled: bool
) -> None:
    vectorizer = _fitted(analyzer)
    assert_same_matrix(counts(vectorizer, documents), vectorizer.transform(documents))


@pytest.mark.parametrize("documents", DOCUMENTS.values(), ids=DOCUMENTS.keys())
@pytest.mark.parametrize("analyzer", ANALYZERS)
def test_binary_counts_are_ones(analyzer: str, documents: list[str], assembled: bool) -> None:
    vectorizer = _fitted(analyzer, binary=True)
    assert_same_matrix(counts(vectorizer, documents), vectorizer.transform(documents))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.bool_])
def test_the_vectorizers_dtype_is_kept(dtype: type) -> None:
    vectorizer = _fitted("char_wb", dtype=dtype)
    documents = DOCUMENTS["repeated tokens"]
    assert_same_matrix(counts(vectorizer, documents), vectorizer.transform(documents))


def test_a_non_native_dtype_is_left_to_sklearn() -> None:
    vectorizer = _fitted("word", dtype=np.dtype(">i8"))
    documents = DOCUMENTS["mixed"]
    assert_same_matrix(counts(vectorizer, documents), vectorizer.transform(documents))


@pytest.mark.parametrize("analyzer", ANALYZERS)
def test_a_vocabulary_set_after_fitting_is_used(analyzer: str) -> None:
    """Rasa's finetuning sets `vocabulary_` on a vectorizer already used."""
    vectorizer = _fitted(analyzer)
    documents = ["区块链 开幕式", "区块链"]
    counts(vectorizer, documents)
    vocabulary = dict(vectorizer.vocabulary_)
    for feature in vectorizer.build_analyzer()("区块链"):
        vocabulary.setdefault(feature, len(vocabulary))
    vectorizer.vocabulary_ = vocabulary
    got = counts(vectorizer, documents)
    assert got.shape[1] == len(vocabulary) and got.nnz > counts(_fitted(analyzer), documents).nnz
    assert_same_matrix(got, vectorizer.transform(documents))


def test_rebound_parameters_rebuild_the_analyzer() -> None:
    vectorizer = _fitted("word")
    documents = DOCUMENTS["mixed"]
    counts(vectorizer, documents)
    vectorizer.set_params(lowercase=False, stop_words=["在"])
    assert_same_matrix(counts(vectorizer, documents), vectorizer.transform(documents))
    vectorizer.stop_words.append("哪里")  # sklearn copies the list when it builds the analyzer
    assert_same_matrix(counts(vectorizer, documents), vectorizer.transform(documents))


def test_a_vocabulary_given_to_the_constructor_is_validated_by_sklearn() -> None:
    vectorizer = CountVectorizer(vocabulary={"开幕式": 0, "在": 1, "哪里": 2}, **ANALYZERS["word"])
    documents = DOCUMENTS["repeated tokens"]
    assert_same_matrix(counts(vectorizer, documents), vectorizer.transform(documents))
    assert_same_matrix(counts(vectorizer, documents), vectorizer.transform(documents))


def test_documents_may_be_any_iterable() -> None:
    vectorizer = _fitted("char_wb")
    documents = DOCUMENTS["mixed"]
    assert_same_matrix(counts(vectorizer, iter(documents)), vectorizer.transform(documents))


def test_sklearns_errors_are_raised() -> None:
    with pytest.raises(ValueError, match="Iterable over raw text documents expected"):
        counts(_fitted("word"), "开幕式")
    with pytest.raises(NotFittedError):
        counts(CountVectorizer(), ["开幕式"])


def test_a_subclass_transforms_its_own_way() -> None:
    vectorizer = TfidfVectorizer(**ANALYZERS["word"]).fit(CORPUS)
    got, expected = counts(vectorizer, CORPUS[:2]), vectorizer.transform(CORPUS[:2])
    assert got.data.tolist() == expected.data.tolist()  # tf-idf weights, not counts


def test_the_matrices_are_assembled_with_the_pinned_scipy() -> None:
    """Otherwise scipy's constructors build them: the same matrices, most of the gain lost."""
    assert bot.nlu.count_vectors.ASSEMBLED


@pytest.mark.parametrize("copy", [True, False])
def test_tocoo_copies_as_scipys_does(copy: bool) -> None:
    matrix = counts(_fitted("char_wb"), DOCUMENTS["mixed"])
    coo = matrix.tocoo(copy=copy)
    assert_same_coo(coo, scipy.sparse.csr_matrix.tocoo(matrix, copy=copy))
    assert np.shares_memory(coo.data, matrix.data) is not copy
    assert np.shares_memory(coo.col, matrix.indices) is not copy


def test_a_matrix_scipy_derives_from_one_converts_alike() -> None:
    matrix = counts(_fitted("word"), DOCUMENTS["repeated tokens"])
    for derived in [matrix.copy(), matrix * 2, matrix[1:]]:
        assert isinstance(derived, CountMatrix)
        assert_same_coo(derived.tocoo(), scipy.sparse.csr_matrix.tocoo(derived))


# a token list: words the vectorizers know, others, in any case, with spaces and punctuation
WORDS = sorted({word for text in CORPUS for word in text.split()})
TOKEN = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS).map(str.upper),
    st.text(alphabet=st.sampled_from("开幕式在哪里区块链abcXYZ 9？!é"), max_size=6),
)


FITTED = {
    (analyzer, binary): _fitted(analyzer, binary=binary)
    for analyzer in ANALYZERS
    for binary in (False, True)
}


@settings(max_examples=150, deadline=None)
@given(tokens=st.lists(TOKEN, max_size=10), binary=st.booleans())
def test_any_token_list_as_sklearn(tokens: list[str], binary: bool) -> None:
    for analyzer in ANALYZERS:
        vectorizer = FITTED[analyzer, binary]
        for documents in (tokens, [" ".join(tokens)]):
            assert_same_matrix(counts(vectorizer, documents), vectorizer.transform(documents))


# ------------------------------------------------------------------ in Rasa's featurizer
FEATURIZERS = {
    "word": {"lowercase": True},
    "char_wb": {"analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4, "lowercase": True},
    "shared vocabulary": {"lowercase": True, "use_shared_vocab": True},
}
TRAINING = [
    ("请问 开幕式 在 哪里", "ask_venue"),
    ("开幕式 几点 开始", "ask_schedule"),
    ("Where is the opening ceremony", "ask_venue"),
    ("what time does the Expo open", "ask_schedule"),
    ("hello 你好", "greet"),
]
SERVED = [
    "开幕式 在 哪里",
    "WHERE is the 开幕式",
    "区块链 blockchain 展会",
    "9月10号 2024 开幕式 开幕式 开幕式",
    "完全 不认识 的 话",
    "",
]


@pytest.fixture()
def fast_counts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(CountVectorsFeaturizer, "load", CountVectorsFeaturizer.__dict__["load"])
    install_fast_count_vectors()
    yield


def _trained(
    tmp_path: Path, settings: dict[str, Any]
) -> tuple[dict[str, Any], LocalModelStorage, Resource]:
    config = {**CountVectorsFeaturizer.get_default_config(), **settings}
    storage, resource = LocalModelStorage(tmp_path), Resource("count_vectors")
    featurizer = CountVectorsFeaturizer.create(config, storage, resource, execution_context())
    featurizer.train(_tokenized(_training_data()))
    return config, storage, resource


def _training_data() -> TrainingData:
    return TrainingData([Message(data={TEXT: text, INTENT: intent}) for text, intent in TRAINING])


def _tokenized(data: TrainingData) -> TrainingData:
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    return data


def _served(texts: list[str]) -> list[Message]:
    messages = [Message(data={TEXT: text}) for text in texts]
    return WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)


def _stock(featurizer: CountVectorsFeaturizer) -> CountVectorsFeaturizer:
    """The featurizer with sklearn's transform back, whatever load installed."""
    for vectorizer in featurizer.vectorizers.values():
        vectorizer.__dict__.pop("transform", None)
    return featurizer


def _features(messages: list[Message]) -> list[list[tuple[str, str, str, Any]]]:
    return [
        [(f.type, f.attribute, f.origin, f.features) for f in message.features]
        for message in messages
    ]


def assert_same_features(got: list[Message], expected: list[Message]) -> None:
    got_features, expected_features = _features(got), _features(expected)
    assert [[f[:3] for f in m] for m in got_features] == [
        [f[:3] for f in m] for m in expected_features
    ]
    for ours, theirs in zip(got_features, expected_features):
        for (*_, our_matrix), (*_, their_matrix) in zip(ours, theirs):
            assert_same_coo(our_matrix, their_matrix)


@pytest.mark.parametrize("settings", FEATURIZERS.values(), ids=FEATURIZERS.keys())
def test_a_loaded_featurizer_gives_rasas_features(
    fast_counts: None, tmp_path: Path, settings: dict[str, Any]
) -> None:
    config, storage, resource = _trained(tmp_path, settings)
    fast = CountVectorsFeaturizer.load(config, storage, resource, execution_context())
    stock = _stock(CountVectorsFeaturizer.load(config, storage, resource, execution_context()))

    assert_same_features(fast.process(_served(SERVED)), stock.process(_served(SERVED)))
    fast_data = fast.process_training_data(_tokenized(_training_data()))
    stock_data = stock.process_training_data(_tokenized(_training_data()))
    assert_same_features(fast_data.training_examples, stock_data.training_examples)


@pytest.mark.parametrize("settings", FEATURIZERS.values(), ids=FEATURIZERS.keys())
def test_a_loaded_featurizer_no_longer_calls_sklearns_transform(
    fast_counts: None, tmp_path: Path, settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, storage, resource = _trained(tmp_path, settings)
    featurizer = CountVectorsFeaturizer.load(config, storage, resource, execution_context())

    def refused(self: CountVectorizer, documents: Any) -> None:
        raise AssertionError("sklearn's transform was called")

    monkeypatch.setattr(CountVectorizer, "transform", refused)
    [message] = featurizer.process(_served(["开幕式 在 哪里"]))
    assert {f.type for f in message.features} == {"sequence", "sentence"}
