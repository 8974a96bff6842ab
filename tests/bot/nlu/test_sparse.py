"""bot.nlu.sparse: the matrices scipy's hstack gives."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from bot.nlu.sparse import joined, joined_columns


def _random(rows: int, columns: int, seed: int, fmt: str) -> scipy.sparse.spmatrix:
    return scipy.sparse.random(rows, columns, density=0.1, format=fmt, random_state=seed)


@pytest.mark.parametrize("seed", range(5))
def test_joined_columns_is_scipys_hstack(seed: int) -> None:
    rows = int(np.random.default_rng(seed).integers(1, 9))
    left, right = _random(rows, 40, seed, "coo"), _random(rows, 300, seed + 1, "csr")
    expected = scipy.sparse.hstack([left, right])
    got = joined_columns(left, right)
    assert (got.shape, got.dtype, got.format) == (expected.shape, expected.dtype, "coo")
    assert (got != expected).nnz == 0


@pytest.mark.parametrize("count", [1, 2, 4])
def test_joined_is_scipys_hstack_for_any_number_of_parts(count: int) -> None:
    parts = [_random(3, 10 * (i + 1), i, "coo") for i in range(count)]
    got = joined(parts)
    assert got.shape == (3, sum(p.shape[1] for p in parts))
    assert (got != scipy.sparse.hstack(parts)).nnz == 0


def test_an_empty_part_adds_no_columns() -> None:
    part = _random(2, 5, 0, "coo")
    assert joined([part, scipy.sparse.coo_matrix((2, 0))]).shape == (2, 5)


def _attributes(matrix: scipy.sparse.coo_matrix) -> dict[str, object]:
    return {
        name: (value.dtype, value.tolist()) if isinstance(value, np.ndarray) else value
        for name, value in vars(matrix).items()
    }


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dtypes", [(np.float64, np.float64), (np.float32, np.float64)])
def test_a_join_is_the_matrix_scipys_constructor_builds(seed: int, dtypes: tuple) -> None:
    left = _random(4, 30, seed, "coo").astype(dtypes[0])
    right = _random(4, 50, seed + 7, "csr").astype(dtypes[1])
    got = joined_columns(left, right)
    left_coo, right_coo = left.tocoo(), right.tocoo()
    constructed = scipy.sparse.coo_matrix(
        (
            np.concatenate([left_coo.data, right_coo.data]),
            (
                np.concatenate([left_coo.row, right_coo.row]),
                np.concatenate([left_coo.col, right_coo.col + 30]),
            ),
        ),
        shape=(4, 80),
    )
    assert _attributes(got) == _attributes(constructed)
    assert (got != scipy.sparse.hstack([left, right])).nnz == 0
    got.sum_duplicates()  # scipy's own operations work on it
    assert got.has_canonical_format and got.tocsr().shape == (4, 80)


def test_int64_indices_take_scipys_constructor() -> None:
    left = _random(2, 5, 0, "coo")
    left.row, left.col = left.row.astype(np.int64), left.col.astype(np.int64)
    got = joined_columns(left, _random(2, 3, 1, "coo"))
    assert got.row.dtype == np.int32  # what the constructor makes of them
    assert (got != scipy.sparse.hstack([left, _random(2, 3, 1, "coo")])).nnz == 0
