"""ops.rasa_entry: Rasa with skops imported first and each constant schema checked once."""

from __future__ import annotations

import os
import subprocess
import sys

import jsonschema
import pytest
import rasa.shared.utils.validation as validation
from rasa.core.actions.action import RemoteAction
from rasa.utils.tensorflow.constants import RUN_EAGERLY
from tensorflow.python.autograph.impl.api import is_autograph_artifact
from rasa.utils.tensorflow.models import RasaModel
from rasa.shared.exceptions import SchemaValidationError
from rasa.shared.nlu.training_data.schemas import data_schema as schemas

from bot import paths
from bot.limits import MAX_BODY_BYTES
from ops.action_entry import ACCESS_LOG_ENV
import ops.rasa_entry as rasa_entry
from tests.ops.rasa_functions import restore_rasa_speedups
from ops.rasa_entry import (
    install_fast_action_result_validation,
    install_fast_model_loading,
    install_story_test_entity_filter,
    install_fast_training_data_validation,
    TENSORFLOW_THREAD_VARIABLES,
    rasa_command,
)


@pytest.fixture()
def fast_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validation, "validate_training_data", validation.validate_training_data)
    install_fast_training_data_validation()


def test_valid_annotation_passes(fast_validation: None) -> None:
    validation.validate_training_data(
        {"entity": "event", "value": "expo"}, schemas.entity_dict_schema()
    )


def test_invalid_annotation_raises_rasas_error(fast_validation: None) -> None:
    with pytest.raises(SchemaValidationError, match="Failed to validate data"):
        validation.validate_training_data({"value": "expo"}, schemas.entity_dict_schema())


def test_installing_twice_wraps_once(fast_validation: None) -> None:
    installed = validation.validate_training_data
    install_fast_training_data_validation()
    assert validation.validate_training_data is installed


def test_training_data_loads_the_same(fast_validation: None) -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(paths.DATA_DIR / "nlu" / "follow_up.yml"))
    assert {e["entity"] for m in data.entity_examples for e in m.get("entities")} >= {
        "event",
        "theme_day",
    }


@pytest.fixture()
def fast_action_validation(monkeypatch: pytest.MonkeyPatch) -> RemoteAction:
    monkeypatch.setattr(
        RemoteAction, "_validate_action_result", RemoteAction._validate_action_result
    )
    install_fast_action_result_validation()
    return RemoteAction("action_venue", None)


def test_valid_action_reply_passes(fast_action_validation: RemoteAction) -> None:
    reply = {
        "events": [{"event": "slot", "name": "venue", "value": "x", "timestamp": None}],
        "responses": [{"text": "开幕式在南沙举行"}],
    }
    assert fast_action_validation._validate_action_result(reply) is True


@pytest.mark.parametrize(
    "reply",
    [
        {"events": [{"event": "no_such_event"}]},
        {"events": [{"event": "slot", "name": 5, "value": 1}]},
        {"events": "not a list"},
        {"events": None},
        {"responses": [3]},
    ],
)
def test_invalid_action_reply_raises_rasas_error(
    fast_action_validation: RemoteAction, reply: dict[str, object]
) -> None:
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server"):
        fast_action_validation._validate_action_result(reply)


def test_action_validation_installed_twice_wraps_once(
    fast_action_validation: RemoteAction,
) -> None:
    installed = RemoteAction._validate_action_result
    install_fast_action_result_validation()
    assert RemoteAction._validate_action_result is installed


class _FakeModel:
    """Stands in for a RasaModel: records what Rasa's `load` and the wrapper did with it."""

    def __init__(self, config: dict[str, object]) -> None:
        self.config = config
        self.run_eagerly = bool(config.get(RUN_EAGERLY))
        self.inferred: list[tuple[object, bool]] = []

    def predict_step(self, batch: object) -> object:
        return batch

    def run_inference(self, data: object) -> None:
        self.inferred.append((data, self.run_eagerly))


@pytest.fixture()
def rasa_loads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """RasaModel.load replaced by a recorder (what Rasa's load was given), then wrapped."""
    calls: list[dict[str, object]] = []

    def load(cls, path, example, predict_example=None, finetune_mode=False, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls.append({"config": dict(kwargs["config"]), "predict": predict_example})
        model = _FakeModel(kwargs["config"])
        if predict_example is not None:
            model.run_inference(predict_example)
        return model

    monkeypatch.setattr(RasaModel, "load", classmethod(load))
    install_fast_model_loading()
    return calls


def test_model_weights_are_built_eagerly_and_predictions_traced(
    rasa_loads: list[dict[str, object]],
) -> None:
    model = RasaModel.load("w", "example", "predict-example", config={RUN_EAGERLY: False})
    assert rasa_loads == [{"config": {RUN_EAGERLY: True}, "predict": None}]
    assert model.inferred == [("predict-example", False)]  # traced once, not eagerly
    assert is_autograph_artifact(model.predict_step)  # traced without AutoGraph
    assert model.config[RUN_EAGERLY] is False and model.run_eagerly is False


@pytest.mark.parametrize(
    ("config", "finetune"), [({RUN_EAGERLY: True}, False), ({RUN_EAGERLY: False}, True)]
)
def test_eager_models_and_finetuning_load_rasas_way(
    rasa_loads: list[dict[str, object]], config: dict[str, object], finetune: bool
) -> None:
    RasaModel.load("w", "example", "predict-example", finetune, config=dict(config))
    assert rasa_loads == [{"config": config, "predict": "predict-example"}]


def test_model_loading_installed_twice_wraps_once(rasa_loads: list[dict[str, object]]) -> None:
    installed = RasaModel.load
    install_fast_model_loading()
    assert RasaModel.load == installed


def test_story_tests_leave_the_language_entity_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.core.test as story_test

    monkeypatch.setattr(story_test, "_clean_entity_results", story_test._clean_entity_results)
    install_story_test_entity_filter()
    event = {"entity": "event", "value": "expo", "start": 0, "end": 4}
    language = {"entity": "language", "value": "en", "start": 0, "end": 13, "extractor": "x"}
    cleaned = story_test._clean_entity_results("expo opening?", [event, language])
    assert [e["entity"] for e in cleaned] == ["event"]


@pytest.mark.parametrize("stock", [False, True])
def test_entry_point_runs_rasa(stock: bool) -> None:
    command = rasa_command("--version", stock=stock)
    assert command[0] == sys.executable
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Rasa Version" in result.stdout and "3.6.21" in result.stdout


SANIC_CAPS = ("SANIC_REQUEST_MAX_SIZE", "SANIC_WEBSOCKET_MAX_SIZE")


@pytest.fixture()
def fake_rasa(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], bool]]:
    """Rasa's main replaced: records its command line and whether the validation is patched."""
    import rasa.__main__

    calls: list[tuple[list[str], bool]] = []
    for name in SANIC_CAPS:  # main() sets them in os.environ: restored after the test
        monkeypatch.setenv(name, "100000000")
    for name in (*TENSORFLOW_THREAD_VARIABLES, ACCESS_LOG_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(validation, "validate_training_data", validation.validate_training_data)
    monkeypatch.setattr(
        RemoteAction, "_validate_action_result", RemoteAction._validate_action_result
    )
    _restore_fault_handling(monkeypatch)
    monkeypatch.setattr(sys, "argv", ["ops.rasa_entry"])

    def record() -> None:
        patched = all(
            getattr(function, "checks_schema_once", False)
            for function in (
                validation.validate_training_data,
                RemoteAction._validate_action_result,
            )
        )
        calls.append((sys.argv[1:], patched))

    monkeypatch.setattr(rasa.__main__, "main", record)
    return calls


def _restore_fault_handling(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() installs the fault handling too: Rasa's own back after the test."""
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import FailSafeTrackerStore

    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)
    monkeypatch.setattr(Agent, "handle_message", Agent.handle_message)
    retrieve_error = FailSafeTrackerStore.on_tracker_store_retrieve_error
    monkeypatch.setattr(FailSafeTrackerStore, "on_tracker_store_retrieve_error", retrieve_error)
    restore_rasa_speedups(monkeypatch)


def test_stock_skips_the_fixes(fake_rasa: list[tuple[list[str], bool]]) -> None:
    rasa_entry.main(["--stock", "train", "nlu", "--out", "x"])
    assert fake_rasa == [(["train", "nlu", "--out", "x"], False)]
    assert all(os.environ[name] == "100000000" for name in SANIC_CAPS)  # Rasa as shipped


def test_fixes_are_installed_by_default(fake_rasa: list[tuple[list[str], bool]]) -> None:
    import rasa.core.processor

    from ops.graph_runner import SequentialGraphRunner

    rasa_entry.main(["data", "validate"])
    assert fake_rasa == [(["data", "validate"], True)]
    assert rasa.core.processor.DaskGraphRunner is SequentialGraphRunner


def test_request_sizes_are_capped_for_the_app_rasa_creates(
    fake_rasa: list[tuple[list[str], bool]],
) -> None:
    """An inherited larger value is overridden; Sanic reads the variables at app creation."""
    from sanic import Sanic

    rasa_entry.main(["run"])
    assert all(os.environ[name] == str(MAX_BODY_BYTES) for name in SANIC_CAPS)
    app = Sanic("rasa_entry_cap_test")  # as rasa.core.run.configure_app builds its app
    assert app.config.REQUEST_MAX_SIZE == app.config.WEBSOCKET_MAX_SIZE == MAX_BODY_BYTES


@pytest.mark.parametrize(("command", "logs"), [(["run"], False), (["--stock", "run"], True)])
def test_a_serving_rasas_app_writes_no_access_log(
    fake_rasa: list[tuple[list[str], bool]], command: list[str], logs: bool
) -> None:
    from sanic import Sanic

    rasa_entry.main(command)
    app = Sanic(f"rasa_entry_access_log_test_{logs}")  # as rasa.core.run.configure_app does
    assert app.config.ACCESS_LOG is logs  # stock: Sanic's default


def test_a_serving_rasa_runs_tensorflow_on_one_thread(
    fake_rasa: list[tuple[list[str], bool]],
) -> None:
    rasa_entry.main(["run", "--enable-api"])
    assert all(os.environ[name] == "1" for name in TENSORFLOW_THREAD_VARIABLES)


@pytest.mark.parametrize("command", [["train"], ["--stock", "run"], ["test", "nlu"]])
def test_training_and_stock_keep_tensorflows_threads(
    fake_rasa: list[tuple[list[str], bool]], command: list[str]
) -> None:
    rasa_entry.main(command)
    assert not any(name in os.environ for name in TENSORFLOW_THREAD_VARIABLES)


def test_an_operators_thread_count_is_kept(
    fake_rasa: list[tuple[list[str], bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_INTRA_OP_PARALLELISM_THREADS", "2")
    rasa_entry.main(["run"])
    assert os.environ["TF_INTRA_OP_PARALLELISM_THREADS"] == "2"
    assert os.environ["TF_INTER_OP_PARALLELISM_THREADS"] == "1"


# ------------------------------------------------------------------------- no version banner
@pytest.fixture()
def neutral_root(monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.server
    from sanic import Sanic

    monkeypatch.setattr(Sanic, "test_mode", True)  # Rasa names its apps alike
    monkeypatch.setattr(rasa.server, "add_root_route", rasa.server.add_root_route)
    rasa_entry.install_neutral_root_route()


@pytest.mark.parametrize("enable_api", [False, True], ids=["channels-only", "enable-api"])
def test_root_answers_without_rasas_version(neutral_root: None, enable_api: bool) -> None:
    import rasa
    from rasa.core.run import configure_app

    app = configure_app(enable_api=enable_api)
    _, root = app.test_client.get("/")
    assert root.status == 200 and root.text == rasa_entry.NEUTRAL_ROOT_TEXT
    assert rasa.__version__ not in root.text and "Rasa" not in root.text


@pytest.mark.parametrize("enable_api, status", [(False, 404), (True, 200)])
def test_version_is_served_only_with_the_http_api(
    neutral_root: None, enable_api: bool, status: int
) -> None:
    from rasa.core.run import configure_app

    _, version = configure_app(enable_api=enable_api).test_client.get("/version")
    assert version.status == status


def test_main_installs_the_neutral_root(
    fake_rasa: list[tuple[list[str], bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import rasa.server

    monkeypatch.setattr(rasa.server, "add_root_route", rasa.server.add_root_route)
    rasa_entry.main(["run"])
    assert getattr(rasa.server.add_root_route, "is_neutral", False)
