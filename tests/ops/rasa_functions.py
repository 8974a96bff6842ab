"""Rasa's own functions back after a test that installed ops.rasa_speedups."""

from __future__ import annotations

import pytest


def restore_rasa_speedups(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() installs ops.rasa_speedups too: Rasa's own back after the test."""
    import importlib

    import rasa.core.processor
    import rasa.core.run
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
        CountVectorsFeaturizer,
    )
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.nlu.training_data.features import Features
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.tensorflow.models import RasaModel

    from ops.log_copies import MODULES

    monkeypatch.setattr(rasa.core.processor, "DaskGraphRunner", rasa.core.processor.DaskGraphRunner)
    monkeypatch.setattr(Domain, "is_empty", Domain.is_empty)
    combine = Features._combine_sparse_features
    monkeypatch.setattr(Features, "_combine_sparse_features", combine)
    monkeypatch.setattr(RasaModel, "_rasa_predict", RasaModel._rasa_predict)
    monkeypatch.setattr(DIETClassifier, "_predict", DIETClassifier._predict)
    run_action = rasa.core.processor.MessageProcessor._run_action
    monkeypatch.setattr(rasa.core.processor.MessageProcessor, "_run_action", run_action)
    monkeypatch.setattr(RulePolicy, "_get_possible_keys", RulePolicy._get_possible_keys)
    monkeypatch.setattr(CountVectorsFeaturizer, "load", CountVectorsFeaturizer.__dict__["load"])
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    monkeypatch.setattr(rasa.core.run, "close_resources", rasa.core.run.close_resources)
    monkeypatch.setattr(Event, "resolve_by_type", Event.__dict__["resolve_by_type"])
    # Rasa's Event has no __init_subclass__ of its own: object's behaviour until the undo,
    # which then removes the attribute again
    subclass_hook = Event.__dict__.get("__init_subclass__", classmethod(_plain_init_subclass))
    monkeypatch.setattr(Event, "__init_subclass__", subclass_hook, raising=False)
    for name in MODULES:
        module = importlib.import_module(name)
        monkeypatch.setattr(module, "copy", module.copy)


def _plain_init_subclass(cls: type, **kwargs: object) -> None:
    from rasa.shared.core.events import Event

    super(Event, cls).__init_subclass__(**kwargs)
