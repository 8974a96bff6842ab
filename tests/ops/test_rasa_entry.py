"""ops.rasa_entry: Rasa with skops imported first and each constant schema checked once."""

from __future__ import annotations

import subprocess
import sys

import jsonschema
import pytest
import rasa.shared.utils.validation as validation
from rasa.core.actions.action import RemoteAction
from rasa.shared.exceptions import SchemaValidationError
from rasa.shared.nlu.training_data.schemas import data_schema as schemas

from bot import paths
import ops.rasa_entry as rasa_entry
from ops.rasa_entry import (
    install_fast_action_result_validation,
    install_fast_training_data_validation,
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
        {"events": "not a list"},
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


@pytest.mark.parametrize("stock", [False, True])
def test_entry_point_runs_rasa(stock: bool) -> None:
    command = rasa_command("--version", stock=stock)
    assert command[0] == sys.executable
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Rasa Version" in result.stdout and "3.6.21" in result.stdout


@pytest.fixture()
def fake_rasa(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], bool]]:
    """Rasa's main replaced: records its command line and whether the validation is patched."""
    import rasa.__main__

    calls: list[tuple[list[str], bool]] = []
    monkeypatch.setattr(validation, "validate_training_data", validation.validate_training_data)
    monkeypatch.setattr(
        RemoteAction, "_validate_action_result", RemoteAction._validate_action_result
    )
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


def test_stock_skips_the_fixes(fake_rasa: list[tuple[list[str], bool]]) -> None:
    rasa_entry.main(["--stock", "train", "nlu", "--out", "x"])
    assert fake_rasa == [(["train", "nlu", "--out", "x"], False)]


def test_fixes_are_installed_by_default(fake_rasa: list[tuple[list[str], bool]]) -> None:
    rasa_entry.main(["data", "validate"])
    assert fake_rasa == [(["data", "validate"], True)]
