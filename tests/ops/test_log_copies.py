"""Rasa's debug-log deep copies made only while Rasa logs at debug level (ops/log_copies.py)."""

from __future__ import annotations

import ast
import importlib
import inspect
import logging
from collections.abc import Iterator

import pytest

from ops.log_copies import (
    MODULES,
    RASA_LOGGER,
    CopyForDebugLogs,
    install_copies_for_debug_logs_only,
)


def _debug_log_arguments(tree: ast.AST) -> set[int]:
    """ids of the nodes passed to `structlogger.debug(...)` (positional or keyword)."""
    arguments: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "debug"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "structlogger"
        ):
            arguments.update(id(arg) for arg in node.args)
            arguments.update(id(keyword.value) for keyword in node.keywords)
    return arguments


@pytest.mark.parametrize("name", MODULES)
def test_every_copy_in_the_module_is_a_debug_log_argument(name: str) -> None:
    tree = ast.parse(inspect.getsource(importlib.import_module(name)))
    logged = _debug_log_arguments(tree)
    calls = {
        id(node.func): node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    uses = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "copy"
    ]
    assert uses, f"{name} no longer copies anything: drop it from MODULES"
    for use in uses:
        assert use.attr == "deepcopy", f"{name}:{use.lineno} uses copy.{use.attr}"
        assert id(calls[id(use)]) in logged, f"{name}:{use.lineno} copies for more than a log"


@pytest.fixture()
def rasa_log_level() -> Iterator[logging.Logger]:
    logger = logging.getLogger(RASA_LOGGER)
    level = logger.level
    yield logger
    logger.setLevel(level)


def test_copies_only_while_rasa_logs_at_debug(rasa_log_level: logging.Logger) -> None:
    value = {"states": [{"user": {"intent": "greet"}}]}
    rasa_log_level.setLevel(logging.INFO)
    assert CopyForDebugLogs.deepcopy(value) is value
    rasa_log_level.setLevel(logging.DEBUG)
    copied = CopyForDebugLogs.deepcopy(value)
    assert copied == value and copied is not value
    assert copied["states"][0] is not value["states"][0]


def test_installed_in_each_module(monkeypatch: pytest.MonkeyPatch) -> None:
    modules = [importlib.import_module(name) for name in MODULES]
    for module in modules:
        monkeypatch.setattr(module, "copy", module.copy)  # restored after the test
    install_copies_for_debug_logs_only()
    assert all(module.copy is CopyForDebugLogs for module in modules)
