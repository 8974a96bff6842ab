"""Rasa 3.6's costs on every turn, taken out with the same results (issue #14).

- The trained graph runs node by node without dask's scheduler (ops/graph_runner.py).
- Sparse features are joined with `scipy.sparse.hstack`, ~10 times a message (DIET's inputs
  from four featurizers); `bot.nlu.sparse.joined_columns` gives the same matrix in a quarter
  of the time.
- `MessageProcessor` asks `Domain.is_empty()` on every message, which serialises the whole
  domain and an empty one to compare them. A domain found non-empty stays so (Rasa never
  empties one in place), so that answer is kept on the domain.
- Each loaded `CountVectorsFeaturizer` counts a message's tokens with
  `bot.nlu.count_vectors.counts` instead of sklearn's `CountVectorizer.transform`: the same
  matrices without sklearn's and scipy's per-call checks. Training's own featurizing loads the
  trained featurizer too, and gets the same matrices.
- DIET's traced prediction step is called directly (`DirectPredictStep`), with its input built
  straight from the message's features (ops/diet_input.py).
- Actions that only read the tracker get it without a replayed copy.
- Installed from here, in modules of their own: the rule index (ops/rule_index.py), the event
  type index (ops/event_index.py), kept-alive
  endpoint connections (ops/endpoint_connections.py), no deep copies for silent debug log lines
  (ops/log_copies.py).

Measurements: docs/decisions.md ("A turn's cost", four passes).
"""

from __future__ import annotations

import functools
import types
from typing import Any

import numpy as np

KEPT_NON_EMPTY = "_cyberweek_known_non_empty"


def install_fast_sparse_feature_combining() -> None:
    from rasa.shared.nlu.training_data.features import Features

    from bot.nlu.sparse import joined_columns

    rasa_combine = Features._combine_sparse_features
    if getattr(rasa_combine, "joins_coo_arrays", False):
        return

    def _combine_sparse_features(self: Features, additional_features: Features) -> None:
        if self.features.shape[0] != additional_features.features.shape[0]:
            rasa_combine(self, additional_features)  # raises Rasa's error
            return
        self.features = joined_columns(self.features, additional_features.features)
        self._cached_fingerprint = None

    _combine_sparse_features.joins_coo_arrays = True  # type: ignore[attr-defined]
    Features._combine_sparse_features = _combine_sparse_features  # type: ignore[method-assign]


def install_kept_domain_emptiness() -> None:
    from rasa.shared.core.domain import Domain

    rasa_is_empty = Domain.is_empty
    if getattr(rasa_is_empty, "keeps_answer", False):
        return

    def is_empty(self: Domain) -> bool:
        if self.__dict__.get(KEPT_NON_EMPTY):
            return False
        empty = rasa_is_empty(self)
        if not empty:
            self.__dict__[KEPT_NON_EMPTY] = True
        return empty

    is_empty.keeps_answer = True  # type: ignore[attr-defined]
    Domain.is_empty = is_empty  # type: ignore[method-assign]


def install_fast_count_vectors() -> None:
    """Rasa calls `self.vectorizers[attribute].transform` and nothing else of a loaded
    featurizer's vectorizers, so their `transform` is replaced; fitting is untouched."""
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
        CountVectorsFeaturizer,
    )

    rasa_load = CountVectorsFeaturizer.load
    if getattr(rasa_load, "counts_by_hand", False):
        return

    # Rasa's graph validation reads `load`'s signature and type hints: wraps gives Rasa's
    @functools.wraps(rasa_load.__func__)
    def load(cls: Any, *args: Any, **kwargs: Any) -> Any:
        featurizer = rasa_load.__func__(cls, *args, **kwargs)
        for vectorizer in featurizer.vectorizers.values():  # shared ones more than once
            _count_by_hand(vectorizer)
        return featurizer

    load.counts_by_hand = True  # type: ignore[attr-defined]
    CountVectorsFeaturizer.load = classmethod(load)  # type: ignore[method-assign,assignment]


def _count_by_hand(vectorizer: Any) -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    from bot.nlu.count_vectors import counts

    if type(vectorizer) is CountVectorizer:
        vectorizer.transform = types.MethodType(counts, vectorizer)


class DirectPredictStep:
    """DIET's traced prediction step, called with its inputs already as flat tensors.

    A concrete function's public call binds the batch to its structured signature, converts
    and checks every input and packs them again (~0.7 ms of Python a turn, ~8% of a turn's
    GIL at 20 visitors, #14) before it calls `_call_flat`. Rasa's batches are always a flat
    tuple of numpy arrays, so a batch that matches the signature exactly (count, dtype, rank,
    fixed dimensions) goes straight to `_call_flat` (TensorFlow's private entry point, the one
    its public call ends in); anything else takes the public call, with its checks and errors.
    """

    def __init__(self, function: Any) -> None:
        import tensorflow as tf

        self.function = function
        specs = tf.nest.flatten(function.structured_input_signature, expand_composites=True)
        self._expected = [
            (spec.dtype.as_numpy_dtype, tuple(spec.shape.as_list()))
            for spec in specs
            if isinstance(spec, tf.TensorSpec) and spec.shape.rank is not None
        ]
        if len(self._expected) != len(specs):  # a composite or an unknown rank: public call
            self._expected = []
        self._call_flat = getattr(function, "_call_flat", None)  # absent in another TensorFlow
        self._constant = tf.constant

    def __call__(self, batch_in: tuple[Any, ...]) -> Any:
        if not self._fits(batch_in):
            return self.function(batch_in)
        tensors = [self._constant(array) for array in batch_in]
        return self._call_flat(tensors, self.function.captured_inputs)

    def _fits(self, batch_in: Any) -> bool:
        if self._call_flat is None or not self._expected:
            return False
        if not isinstance(batch_in, tuple | list) or len(batch_in) != len(self._expected):
            return False
        return all(
            isinstance(array, np.ndarray)
            and array.dtype == dtype
            and array.ndim == len(shape)
            and all(size is None or size == actual for size, actual in zip(shape, array.shape))
            for array, (dtype, shape) in zip(batch_in, self._expected)
        )


def install_direct_prediction_calls() -> None:
    import tensorflow as tf
    from rasa.utils.tensorflow.models import RasaModel

    rasa_predict = RasaModel._rasa_predict
    if getattr(rasa_predict, "calls_concrete_function", False):
        return

    def _rasa_predict(self: RasaModel, batch_in: tuple[Any, ...]) -> dict[str, Any]:
        step = self._tf_predict_step
        # Rasa creates the tf.function (with an input signature) and traces it on the first call
        if isinstance(step, tf.types.experimental.GenericFunction):
            self._tf_predict_step = DirectPredictStep(step.get_concrete_function())
        return rasa_predict(self, batch_in)

    _rasa_predict.calls_concrete_function = True  # type: ignore[attr-defined]
    RasaModel._rasa_predict = _rasa_predict  # type: ignore[method-assign]


def install_sequential_graph_runner() -> None:
    """`MessageProcessor` passes the runner class it imported to Rasa's loader; training keeps
    dask (`rasa.engine.training` imports its own)."""
    import rasa.core.processor

    from ops.graph_runner import SequentialGraphRunner

    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner  # type: ignore[misc]


def install_no_tracker_copy_for_reading_actions() -> None:
    """`MessageProcessor._run_action` replays the whole conversation into a copy of the
    tracker before every action (~2.5% of a turn's GIL at 20 visitors), so that the policy's
    prediction events can be dropped if the action rejects. With no prediction events the
    copy equals the tracker, and the actions of a plain turn only read what they are given: a
    custom action serialises it, a response fills its template, action_listen ignores it.
    For those the tracker itself is handed over; any other action, or a prediction carrying
    events, gets Rasa's copy.
    """
    from rasa.core.actions.action import ActionBotResponse, ActionListen, RemoteAction
    from rasa.core.processor import MessageProcessor

    rasa_run_action = MessageProcessor._run_action
    if getattr(rasa_run_action, "copies_only_when_needed", False):
        return
    reading_actions = (RemoteAction, ActionBotResponse, ActionListen)

    async def _run_action(
        self: MessageProcessor,
        action: Any,
        tracker: Any,
        output_channel: Any,
        nlg: Any,
        prediction: Any,
    ) -> bool:
        if not prediction.events and type(action) in reading_actions:
            tracker.copy = _itself_once(tracker)  # the first thing Rasa does with it
        try:
            return await rasa_run_action(self, action, tracker, output_channel, nlg, prediction)
        finally:
            tracker.__dict__.pop("copy", None)

    _run_action.copies_only_when_needed = True  # type: ignore[attr-defined]
    MessageProcessor._run_action = _run_action  # type: ignore[method-assign]


def _itself_once(tracker: Any) -> Any:
    """A `copy` for one call that returns the tracker itself; later calls copy again."""

    def copy() -> Any:
        tracker.__dict__.pop("copy", None)
        return tracker

    return copy


def install_rasa_speedups() -> None:
    from ops.diet_input import install_direct_diet_input
    from ops.endpoint_connections import install_kept_alive_endpoint_connections
    from ops.event_index import install_event_type_index
    from ops.log_copies import install_copies_for_debug_logs_only
    from ops.rule_index import install_rule_index

    install_sequential_graph_runner()
    install_fast_sparse_feature_combining()
    install_kept_domain_emptiness()
    install_direct_prediction_calls()
    install_direct_diet_input()
    install_fast_count_vectors()
    install_rule_index()
    install_event_type_index()
    install_kept_alive_endpoint_connections()
    install_copies_for_debug_logs_only()
    install_no_tracker_copy_for_reading_actions()
