"""Rasa's prediction graph run node by node in dependency order, without dask's scheduler.

Every turn runs the trained graph two or three times (the NLU, then each action prediction),
and each run hands a chain of about twenty nodes to `dask.get`, which orders the graph and
queues every node through its thread-pool plumbing — work of its own, in the one event loop
that serves every visitor (docs/decisions.md, "A turn's cost"). The nodes, their inputs and
their results are Rasa's; only the order is worked out once per set of targets and kept.
Training keeps Rasa's dask runner (`rasa.engine.training` imports its own).
"""

from __future__ import annotations

from graphlib import TopologicalSorter
from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphNode
from rasa.engine.runner.dask import DaskGraphRunner

# One step of a run: the node's name, the node, and the names of the nodes it takes input from.
Step = tuple[str, GraphNode, tuple[str, ...]]


class SequentialGraphRunner(DaskGraphRunner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[str, ...], list[Step]] = {}

    def run(
        self, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
    ) -> dict[str, Any]:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        plan = self._plans.get(run_targets)
        if plan is None:
            plan = self._plans[run_targets] = self._plan(run_targets)
        # dask's representation, kept so that GraphNode reads its inputs as it does under dask:
        # an input is the pair (name, value); a name nothing provides is passed as the name.
        outputs: dict[str, Any] = {name: None for name, _node, _needs in plan}
        self._add_inputs_to_graph(inputs, outputs)  # Rasa's check: an input named like a node
        try:
            for name, node, needs in plan:
                outputs[name] = node(*(outputs.get(need, need) for need in needs))
        except RuntimeError as error:  # as DaskGraphRunner.run reports it
            raise GraphRunError("Error running runner.") from error
        return dict(outputs[target] for target in run_targets)

    def _plan(self, targets: tuple[str, ...]) -> list[Step]:
        schema = self._graph_schema.minimal_graph_schema(list(targets))
        sorter = TopologicalSorter(
            {
                name: [n for n in node.needs.values() if n in schema.nodes]
                for name, node in schema.nodes.items()
            }
        )
        return [
            (name, self._instantiated_nodes[name], tuple(schema.nodes[name].needs.values()))
            for name in sorter.static_order()
        ]
