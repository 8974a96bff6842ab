"""ops.rasa_speedups: Rasa's results, less of Rasa's per-turn work."""

from __future__ import annotations

import functools
import json
import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse
import tensorflow as tf
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.core.actions.action import Action, ActionBotResponse, ActionListen
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.features import Features
from rasa.utils.tensorflow.models import RasaModel
from tensorflow.types.experimental import ConcreteFunction

from bot.nlu.count_vectors import counts
from tests.ops.rasa_functions import restore_rasa_speedups
from ops.rasa_speedups import (
    DirectPredictStep,
    install_direct_prediction_calls,
    install_fast_count_vectors,
    install_fast_sparse_feature_combining,
    install_kept_domain_emptiness,
    install_no_tracker_copy_for_reading_actions,
    install_rasa_speedups,
)


@pytest.fixture()
def fast_combining(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Features, "_combine_sparse_features", Features._combine_sparse_features)
    install_fast_sparse_feature_combining()
    yield


@pytest.fixture()
def kept_emptiness(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Domain, "is_empty", Domain.is_empty)
    install_kept_domain_emptiness()
    yield


def _features(matrix: scipy.sparse.spmatrix, origin: str) -> Features:
    return Features(matrix, "sequence", "text", origin)


def test_features_are_combined_as_rasa_does(fast_combining: None) -> None:
    left = scipy.sparse.coo_matrix(np.array([[1.0, 0.0], [0.0, 2.0]]))
    right = scipy.sparse.coo_matrix(np.array([[0.0, 3.0, 0.0], [4.0, 0.0, 5.0]]))
    combined = _features(left, "a")
    combined.combine_with_features(_features(right, "b"))
    assert combined.features.toarray().tolist() == [[1, 0, 0, 3, 0], [0, 2, 4, 0, 5]]


def test_features_of_different_lengths_raise_rasas_error(fast_combining: None) -> None:
    short = _features(scipy.sparse.coo_matrix(np.ones((1, 2))), "a")
    with pytest.raises(ValueError, match="sequence dimensions do not match"):
        short.combine_with_features(_features(scipy.sparse.coo_matrix(np.ones((2, 2))), "b"))


def test_a_domain_is_serialised_once_to_learn_it_is_not_empty(
    kept_emptiness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain = Domain.from_dict({"intents": ["greet"], "responses": {"utter_hi": [{"text": "hi"}]}})
    serialised: list[int] = []
    as_dict = Domain.as_dict

    def counted(self: Domain) -> dict[str, object]:
        serialised.append(1)
        return as_dict(self)

    monkeypatch.setattr(Domain, "as_dict", counted)
    assert [domain.is_empty() for _ in range(3)] == [False, False, False]
    assert len(serialised) == 2  # the domain and an empty one, once
    assert Domain.empty().is_empty() and Domain.empty().is_empty()  # an empty one: Rasa's way


class _Doubler(RasaModel):
    """A RasaModel whose prediction doubles its input; counts how often it is traced."""

    traces = 0

    def batch_predict(self, batch_in: tuple[Any, ...]) -> dict[str, Any]:
        _Doubler.traces += 1  # Python runs only while TensorFlow traces
        return {"doubled": batch_in[0] * 2.0, "rows": tf.shape(batch_in[0])[0]}


@pytest.fixture()
def direct_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(RasaModel, "_rasa_predict", RasaModel._rasa_predict)
    install_direct_prediction_calls()
    yield


def test_predictions_call_the_traced_function_directly_with_rasas_results(
    direct_calls: None,
) -> None:
    model = _Doubler(random_seed=1)
    batches = [
        (np.ones((1, 3), np.float32),),
        (np.arange(6, dtype=np.float32).reshape(2, 3),),
    ]
    outputs = [model._rasa_predict(batch) for batch in batches * 2]
    assert isinstance(model._tf_predict_step, DirectPredictStep)
    assert isinstance(model._tf_predict_step.function, ConcreteFunction)
    assert _Doubler.traces == 1  # one trace serves every batch, as with Rasa's tf.function
    for batch, output in zip(batches * 2, outputs):
        assert output["doubled"].tolist() == (batch[0] * 2).tolist()
        assert output["rows"] == batch[0].shape[0]


def _traced_doubler() -> _Doubler:
    model = _Doubler(random_seed=1)
    model._rasa_predict((np.ones((1, 3), np.float32),))  # Rasa traces on the first call
    return model


def test_a_batch_that_fits_the_signature_skips_the_public_call(
    direct_calls: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _traced_doubler()
    model._rasa_predict((np.ones((1, 3), np.float32),))  # the step now in place
    step = model._tf_predict_step
    flat_calls: list[int] = []
    call_flat = step._call_flat

    def counted(tensors: list[Any], captured: Any) -> Any:
        flat_calls.append(len(tensors))
        return call_flat(tensors, captured)

    monkeypatch.setattr(step, "_call_flat", counted)
    monkeypatch.setattr(step, "function", _refusing(step.function))
    output = model._rasa_predict((np.full((2, 3), 1.5, np.float32),))
    assert flat_calls == [1]
    assert output["doubled"].tolist() == [[3.0] * 3] * 2


def _refusing(function: Any) -> Any:
    class Refusing:
        captured_inputs = function.captured_inputs

        def __call__(self, *_: Any) -> None:
            raise AssertionError("the public call was used")

    return Refusing()


@pytest.mark.parametrize(
    "batch",
    [
        (np.ones((1, 3), np.float64),),  # another dtype: TensorFlow converts it
        ([[1.0, 2.0, 3.0]],),  # not an array
        (np.ones((1, 3), np.float32), np.ones((1, 3), np.float32)),  # one input too many
    ],
)
def test_other_batches_take_the_public_call_with_its_results_and_errors(
    direct_calls: None, batch: tuple[Any, ...]
) -> None:
    model = _traced_doubler()
    function = model._tf_predict_step.get_concrete_function()
    model._rasa_predict((np.ones((1, 3), np.float32),))
    try:
        expected = function(batch)
    except (TypeError, ValueError) as error:
        with pytest.raises(type(error)):
            model._rasa_predict(batch)
    else:
        output = model._rasa_predict(batch)
        assert output["doubled"].tolist() == expected["doubled"].numpy().tolist()


def test_a_batch_of_the_wrong_shape_is_refused_as_tensorflow_refuses_it(direct_calls: None) -> None:
    model = _traced_doubler()
    model._rasa_predict((np.ones((1, 3), np.float32),))
    with pytest.raises((TypeError, ValueError)):
        model._rasa_predict((np.ones((1, 4), np.float32),))


# --------------------------------------------------------------------- count vectors
@pytest.fixture()
def fast_counts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(CountVectorsFeaturizer, "load", CountVectorsFeaturizer.__dict__["load"])
    install_fast_count_vectors()
    yield


def _loaded(tmp_path: Path, vocabulary: dict[str, int]) -> CountVectorsFeaturizer:
    """A featurizer as Rasa loads it from a model: one vocabulary shared by every attribute."""
    folder = tmp_path / "count_vectors"
    folder.mkdir()
    (folder / "vocabularies.json").write_text(json.dumps(vocabulary))
    (folder / "oov_words.json").write_text("[]")
    config = {**CountVectorsFeaturizer.get_default_config(), "use_shared_vocab": True}
    context = ExecutionContext(GraphSchema({}), "count-vectors-test")
    storage = LocalModelStorage(tmp_path)
    return CountVectorsFeaturizer.load(config, storage, Resource("count_vectors"), context)


def test_loaded_featurizers_count_by_hand(fast_counts: None, tmp_path: Path) -> None:
    install_fast_count_vectors()  # a second time: still one wrapper around Rasa's load
    featurizer = _loaded(tmp_path, {"hello": 0, "world": 1})
    [vectorizer] = {id(v): v for v in featurizer.vectorizers.values()}.values()  # shared
    assert vectorizer.transform.__func__ is counts
    assert vectorizer.transform(["hello world hello"]).toarray().tolist() == [[2, 1]]


def test_install_is_idempotent(fast_counts: None) -> None:
    load = CountVectorsFeaturizer.__dict__["load"]
    install_fast_count_vectors()
    assert CountVectorsFeaturizer.__dict__["load"] is load
    assert isinstance(load, classmethod) and load.__func__.counts_by_hand


def test_rasa_speedups_include_the_count_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    import ops.rasa_speedups
    import ops.rule_index

    restore_rasa_speedups(monkeypatch)  # the installers imported from other modules run
    installed: list[str] = []
    for name in dir(ops.rasa_speedups):
        if name.startswith("install_") and name != "install_rasa_speedups":
            monkeypatch.setattr(ops.rasa_speedups, name, functools.partial(installed.append, name))
    monkeypatch.setattr(ops.rule_index, "install_rule_index", lambda: None)
    ops.rasa_speedups.install_rasa_speedups()
    assert "install_fast_count_vectors" in installed


# --- actions that only read the tracker get it without Rasa's replayed copy

RUN_ACTION = MessageProcessor._run_action


class _SlotSetter(Action):
    """An action that changes the tracker it is given (as a loop action may)."""

    def name(self) -> str:
        return "action_sets_in_place"

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Any]:
        tracker.update(SlotSet("mood", "changed in place"))
        return []


def _processor() -> MessageProcessor:
    processor = MessageProcessor.__new__(MessageProcessor)
    processor.domain = Domain.from_dict(
        {
            "intents": ["greet"],
            "slots": {"mood": {"type": "text", "mappings": [{"type": "custom"}]}},
            "responses": {"utter_greet": [{"text": "hello"}]},
        }
    )
    return processor


def _tracker(processor: MessageProcessor) -> DialogueStateTracker:
    tracker = DialogueStateTracker("visitor", processor.domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("hi", {"name": "greet", "confidence": 1.0}))
    return tracker


async def _run(action: Action, prediction: PolicyPrediction) -> tuple[list[Any], int]:
    """The events the processor logs for the action, and how often the tracker was copied."""
    processor = _processor()
    tracker = _tracker(processor)
    copies = 0
    rasa_copy = DialogueStateTracker.copy

    def counted(self: DialogueStateTracker) -> DialogueStateTracker:
        nonlocal copies
        copies += 1
        return rasa_copy(self)

    DialogueStateTracker.copy = counted  # type: ignore[method-assign]
    try:
        nlg = TemplatedNaturalLanguageGenerator(processor.domain.responses)
        await processor._run_action(action, tracker, CollectingOutputChannel(), nlg, prediction)
    finally:
        DialogueStateTracker.copy = rasa_copy  # type: ignore[method-assign]
    assert "copy" not in tracker.__dict__
    return [event.as_dict() | {"timestamp": None} for event in tracker.events], copies


@pytest.fixture()
def reading_actions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(MessageProcessor, "_run_action", RUN_ACTION)
    install_no_tracker_copy_for_reading_actions()
    yield


def _prediction(events: list[Any] | None = None) -> PolicyPrediction:
    return PolicyPrediction([1.0], "RulePolicy", events=events or [])


def _stock(action: Action, prediction: PolicyPrediction) -> tuple[list[Any], int]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MessageProcessor, "_run_action", RUN_ACTION)
        return asyncio.run(_run(action, prediction))


def test_a_response_reads_the_tracker_itself_with_rasas_result(reading_actions: None) -> None:
    action = ActionBotResponse("utter_greet")
    events, copies = asyncio.run(_run(action, _prediction()))
    assert copies == 0
    assert (events, 1) == _stock(action, _prediction())
    assert events[-1]["event"] == "bot" and events[-1]["text"] == "hello"


def test_action_listen_reads_the_tracker_itself(reading_actions: None) -> None:
    events, copies = asyncio.run(_run(ActionListen(), _prediction()))
    assert copies == 0
    assert (events, 1) == _stock(ActionListen(), _prediction())


@pytest.mark.parametrize(
    ("action", "events"),
    [
        (_SlotSetter(), []),  # an action that is not known to only read
        (ActionBotResponse("utter_greet"), [SlotSet("mood", "from the policy")]),
    ],
)
def test_other_actions_and_predictions_with_events_get_rasas_copy(
    reading_actions: None, action: Action, events: list[Any]
) -> None:
    ours, copies = asyncio.run(_run(action, _prediction(events)))
    assert copies == 1
    assert (ours, 1) == _stock(action, _prediction(events))


def test_rasas_graph_validation_accepts_the_installed_components(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Training validates every component's signatures and type hints (a patched `load`
    without Rasa's annotations fails `cyberweek train`)."""
    from rasa.engine import validation
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.data import TrainingType
    from rasa.shared.utils.io import read_config_file

    from bot import paths

    restore_rasa_speedups(monkeypatch)
    install_rasa_speedups()
    config = read_config_file(str(paths.REPO_ROOT / "config.yml"))
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    validation.validate(recipe.graph_config_for_recipe(config, {}, TrainingType.BOTH))
