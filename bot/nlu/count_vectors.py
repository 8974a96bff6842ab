"""`CountVectorizer.transform`'s matrix for one message, without sklearn's per-call overhead.

Why by hand: for one short message sklearn's per-call work, not the counting, is most of the
cost: a new analyzer, the vocabulary check, and scipy's constructor re-validating the arrays just
built (~20 of ~40 µs for 8 tokens), then again in the coo constructor behind Rasa's `tocoo`
(~25 µs); Rasa's CountVectorsFeaturizer does this twice per message and featurizer.

What stays sklearn's: the vectorizer's own analyzer (decoding, lowercasing, tokens or character
n-grams), its `vocabulary_` read on every call (Rasa may set it after construction), counting
with a dict as `_count_vocab` does, and scipy's own in-place sort of each row's columns.
What does not: the csr matrix, and the coo one its `tocoo` gives, are assembled attribute by
attribute, as scipy's constructors leave them (checked against scipy at import; otherwise the
constructors build them) -- with the constructors the two featurizers' `process` went only
from ~385 to ~355 µs a message, assembled to ~230.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse
from sklearn.feature_extraction.text import CountVectorizer

PLAN = "_cyberweek_counting"
MAX_INT32 = int(np.iinfo(np.int32).max)
CSR_ATTRIBUTES = {"_shape", "maxprint", "data", "indices", "indptr", "_has_sorted_indices"}
COO_ATTRIBUTES = {"_shape", "maxprint", "row", "col", "data", "has_canonical_format"}


class _Plan(NamedTuple):
    """What a vectorizer's counts need that only changes with its parameters."""

    parameters: tuple[Any, ...]
    analyze: Callable[[str], list[str]]
    dtype: np.dtype[Any] | None  # None: not a native number type, sklearn counts


def _scipy_sets_only_known_attributes() -> bool:
    """Matrices are assembled without scipy's constructors only while those constructors set
    exactly the attributes assembled here (a newer scipy falls back to the constructors)."""
    probe = scipy.sparse.csr_matrix(
        (np.ones(1), np.zeros(1, np.int32), np.array([0, 1], np.int32)), shape=(1, 1)
    )
    probe.sort_indices()
    return set(vars(probe)) == CSR_ATTRIBUTES and set(vars(probe.tocoo())) == COO_ATTRIBUTES


ASSEMBLED = _scipy_sets_only_known_attributes()
MAXPRINT = scipy.sparse.csr_matrix((1, 1)).maxprint


class CountMatrix(scipy.sparse.csr_matrix):
    """sklearn's csr count matrix, whose `tocoo` skips the coo constructor's checks: Rasa
    converts every count matrix it gets, and these arrays were built consistent."""

    def tocoo(self, copy: bool = True) -> scipy.sparse.coo_matrix:
        indptr, indices = self.indptr, self.indices
        built_here = ASSEMBLED and indices.dtype == indptr.dtype == np.int32
        if not built_here or len(indices) != indptr[-1]:  # e.g. int64 indices: scipy's way
            return super().tocoo(copy=copy)
        rows = np.repeat(np.arange(self.shape[0], dtype=np.int32), np.diff(indptr))
        matrix = scipy.sparse.coo_matrix.__new__(scipy.sparse.coo_matrix)
        matrix.__dict__.update(
            _shape=self.shape,
            maxprint=MAXPRINT,
            row=rows,
            col=indices.copy() if copy else indices,
            data=self.data.copy() if copy else self.data,
            has_canonical_format=False,  # as the coo constructor leaves it
        )
        return matrix


def counts(vectorizer: CountVectorizer, documents: Iterable[str]) -> scipy.sparse.csr_matrix:
    """`vectorizer.transform(documents)`: same shape, counts (1s if `binary`), dtype, int32
    indices sorted in each row, out-of-vocabulary features dropped. sklearn's own transform
    answers whatever this does not count itself: another class, a string for documents, a
    vectorizer without (or with an empty) vocabulary, non-native or non-numeric dtypes."""
    vocabulary = vectorizer.__dict__.get("vocabulary_")
    if not _countable(vectorizer, documents, vocabulary):
        return type(vectorizer).transform(vectorizer, documents)
    plan = _plan(vectorizer)
    if plan.dtype is None:
        return type(vectorizer).transform(vectorizer, documents)
    columns, values, row_ends = _counted(plan.analyze, vocabulary, documents)
    if vectorizer.binary:
        data = np.ones(len(values), dtype=plan.dtype)
    else:
        data = np.array(values, dtype=plan.dtype)
    shape = (len(row_ends) - 1, len(vocabulary))
    return _csr(data, np.array(columns, np.int32), np.array(row_ends, np.int32), shape)


def _countable(vectorizer: CountVectorizer, documents: Iterable[str], vocabulary: Any) -> bool:
    """Subclasses may count otherwise; the rest is what sklearn validates or raises on (int64
    indices only from 2**31 columns on)."""
    return (
        type(vectorizer) is CountVectorizer
        and not isinstance(documents, str)
        and isinstance(vocabulary, dict)
        and 0 < len(vocabulary) <= MAX_INT32
    )


def _plan(vectorizer: CountVectorizer) -> _Plan:
    """The analyzer is kept on the vectorizer (sklearn builds one per call), rebuilt whenever a
    parameter it depends on is rebound."""
    parameters = _analyzer_parameters(vectorizer)
    plan = vectorizer.__dict__.get(PLAN)
    if plan is None or plan.parameters != parameters:
        plan = _Plan(parameters, vectorizer.build_analyzer(), _native_number(vectorizer.dtype))
        vectorizer.__dict__[PLAN] = plan
    return plan


def _analyzer_parameters(vectorizer: CountVectorizer) -> tuple[Any, ...]:
    """The parameters `build_analyzer` captures; `ngram_range` and decoding are read per call.
    A stop word list is compared by content: sklearn copies it into the analyzer."""
    stop_words = vectorizer.stop_words
    if stop_words is not None and not isinstance(stop_words, str):
        stop_words = tuple(stop_words)
    return (
        vectorizer.analyzer,
        vectorizer.preprocessor,
        vectorizer.tokenizer,
        vectorizer.token_pattern,
        vectorizer.strip_accents,
        vectorizer.lowercase,
        stop_words,
        vectorizer.dtype,
    )


def _native_number(dtype: Any) -> np.dtype[Any] | None:
    """scipy turns other byte orders native and keeps objects as sklearn's C ints gave them."""
    resolved = np.dtype(dtype)
    return resolved if resolved.isnative and resolved.kind in "biuf" else None


def _counted(
    analyze: Callable[[str], list[str]], vocabulary: dict[str, Any], documents: Iterable[str]
) -> tuple[list[Any], list[int], list[int]]:
    """Columns and counts row by row in first-seen order, and where each row ends."""
    get = vocabulary.get
    columns: list[Any] = []
    values: list[int] = []
    row_ends = [0]
    for document in documents:
        row: dict[Any, int] = {}
        for feature in analyze(document):
            column = get(feature)
            if column is not None:
                row[column] = row.get(column, 0) + 1
        columns.extend(row)
        values.extend(row.values())
        row_ends.append(len(columns))
    return columns, values, row_ends


def _csr(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]
) -> CountMatrix:
    """scipy's constructor re-derives the index dtype from the arrays' contents and re-checks
    their lengths: ~20 µs, more than counting one message's tokens."""
    if ASSEMBLED:
        matrix = CountMatrix.__new__(CountMatrix)
        matrix.__dict__.update(
            _shape=shape, maxprint=MAXPRINT, data=data, indices=indices, indptr=indptr
        )
    else:
        matrix = CountMatrix((data, indices, indptr), shape=shape)
    matrix.sort_indices()  # scipy's C sort, as sklearn's
    return matrix
