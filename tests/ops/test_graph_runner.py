"""SequentialGraphRunner runs a graph as Rasa's DaskGraphRunner does, minus dask."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.engine.exceptions import GraphComponentException, GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage

from ops.graph_runner import SequentialGraphRunner

CALLS: list[str] = []


class Join(GraphComponent):
    """Appends its config's name to what its inputs hold, in the order of their names."""

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def create(cls, config: dict[str, Any], *_: Any, **__: Any) -> Join:
        return cls(config["name"])

    def run(self, **inputs: Any) -> list[str]:
        CALLS.append(self.name)
        if "fail" in inputs.get("a", []):
            raise ValueError("asked to fail")
        joined = [item for _, value in sorted(inputs.items()) for item in value]
        return [*joined, self.name]


def _node(name: str, **needs: str) -> SchemaNode:
    return SchemaNode(
        needs=needs,
        uses=Join,
        constructor_name="create",
        fn="run",
        config={"name": name},
        eager=True,
    )


# A diamond below an input (`__message__`), a node no target needs, and one reading an input
# that a run may leave out (`__tracker__`).
SCHEMA = GraphSchema(
    {
        "tokens": _node("tokens", a="__message__"),
        "left": _node("left", a="tokens"),
        "right": _node("right", a="tokens"),
        "nlu": _node("nlu", a="left", b="right"),
        "unused": _node("unused", a="tokens"),
        "policy": _node("policy", a="__tracker__"),
    }
)


def _runners(tmp_path: Path) -> list[DaskGraphRunner]:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(SCHEMA, "model")
    return [
        cls.create(SCHEMA, storage, context) for cls in (DaskGraphRunner, SequentialGraphRunner)
    ]


def _run(runner: DaskGraphRunner, **kwargs: Any) -> tuple[Any, list[str]]:
    CALLS.clear()
    try:
        return runner.run(**kwargs), sorted(CALLS)
    except Exception as error:  # compared by type and message
        return (type(error), str(error), type(error.__cause__)), sorted(CALLS)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"inputs": {"__message__": ["hi"]}, "targets": ["nlu"]},
        {"inputs": {"__message__": ["hi"]}, "targets": ["nlu", "left"]},
        {"inputs": {"__tracker__": ["t"]}, "targets": ["policy"]},
        {"inputs": {"__message__": ["fail"]}, "targets": ["nlu"]},
        {"inputs": {"__message__": "left"}, "targets": ["nlu"]},
    ],
    ids=["diamond", "two-targets", "another-target", "a-node-fails", "input-named-like-a-node"],
)
def test_same_results_calls_and_errors_as_dask(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    dask, sequential = _runners(tmp_path)
    expected = _run(dask, **kwargs)
    assert _run(sequential, **kwargs) == expected
    assert _run(sequential, **kwargs) == expected  # the kept plan gives the same again


def test_a_node_whose_input_nobody_provides_fails_as_under_dask(tmp_path: Path) -> None:
    dask, sequential = _runners(tmp_path)
    for runner in (dask, sequential):
        with pytest.raises(GraphRunError, match="Missing input"):
            runner.run(inputs={"__message__": ["hi"]}, targets=["policy"])


def test_only_the_targets_ancestors_run(tmp_path: Path) -> None:
    _, sequential = _runners(tmp_path)
    result, calls = _run(sequential, inputs={"__message__": ["hi"]}, targets=["nlu"])
    assert result == {"nlu": ["hi", "tokens", "left", "hi", "tokens", "right", "nlu"]}
    assert calls == ["left", "nlu", "right", "tokens"]


def test_a_failing_node_is_rasas_component_error(tmp_path: Path) -> None:
    _, sequential = _runners(tmp_path)
    with pytest.raises(GraphComponentException):
        sequential.run(inputs={"__message__": ["fail"]}, targets=["nlu"])
