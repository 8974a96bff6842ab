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
