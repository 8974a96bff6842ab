"""Sparse feature matrices joined side by side without scipy's general block assembly.

`scipy.sparse.hstack` goes through `bmat`: ~90 µs to join two small matrices, and a message's
features are joined about ten times on the way to DIET and the blend. Concatenating the COO
arrays gives the same matrix in ~25 µs (docs/decisions.md, "A turn's cost").
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import scipy.sparse

from bot.nlu.count_vectors import ASSEMBLED, MAX_INT32, MAXPRINT


def joined_columns(
    left: scipy.sparse.spmatrix, right: scipy.sparse.spmatrix
) -> scipy.sparse.coo_matrix:
    """`scipy.sparse.hstack([left, right])` for two sparse matrices with as many rows."""
    left, right = left.tocoo(), right.tocoo()
    shape = (left.shape[0], left.shape[1] + right.shape[1])
    data = np.concatenate([left.data, right.data])
    row = np.concatenate([left.row, right.row])
    col = np.concatenate([left.col, right.col + left.shape[1]])
    if _assembled_as_scipy_would(row, col, shape):
        return _coo(data, row, col, shape)
    return scipy.sparse.coo_matrix((data, (row, col)), shape=shape)


def _assembled_as_scipy_would(row: np.ndarray, col: np.ndarray, shape: tuple[int, int]) -> bool:
    """Whether the coo constructor would keep these index arrays as they are: int32 ones for a
    matrix small enough for int32 indices (its `_check` would not convert them), built from
    two valid matrices, so within the shape."""
    return ASSEMBLED and row.dtype == col.dtype == np.int32 and max(shape) <= MAX_INT32


def _coo(
    data: np.ndarray, row: np.ndarray, col: np.ndarray, shape: tuple[int, int]
) -> scipy.sparse.coo_matrix:
    """The coo matrix scipy's constructor leaves, without its re-checks: they were more than
    half of a join's time (~2% of a turn's GIL at 20 visitors, #14)."""
    matrix = scipy.sparse.coo_matrix.__new__(scipy.sparse.coo_matrix)
    matrix.__dict__.update(
        _shape=shape, maxprint=MAXPRINT, row=row, col=col, data=data, has_canonical_format=False
    )
    return matrix


def joined(parts: Sequence[scipy.sparse.spmatrix]) -> scipy.sparse.coo_matrix:
    """`scipy.sparse.hstack(parts)`, for one or more matrices with as many rows."""
    return functools.reduce(joined_columns, parts[1:], parts[0].tocoo())
