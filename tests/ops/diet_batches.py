"""Parses texts with a trained model as a served Rasa does and compares, for each, DIET's input
built by ops/diet_input.py with Rasa's own; prints the counts as JSON (tests/ops/test_diet_input.py).

    python -m tests.ops.diet_batches MODEL [--every N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bot import paths
from ops import diet_input
from ops.rasa_speedups import install_rasa_speedups

EDGE_TEXTS = ["", " ", "？？？", "😀", "123", "hello 开幕式 where", "網安周幾號開始", "a" * 400]


def texts(every: int) -> list[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    from evaluation import HOLDOUT_DIR

    examples = load_data(str(paths.REPO_ROOT / "data" / "nlu")).intent_examples
    examples += load_data(str(HOLDOUT_DIR)).intent_examples
    return [example.get("text") for example in examples[::every]] + EDGE_TEXTS


def compare(model: str, every: int) -> dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    install_rasa_speedups()
    counts: dict[str, Any] = {"compared": 0, "left_to_rasa": 0, "differing": []}
    served = DIETClassifier._predict

    def _predict(self: DIETClassifier, message: Any) -> Any:
        ours = diet_input.message_batch(message, self.component_config["featurizers"])
        if ours is None:
            counts["left_to_rasa"] += 1
        elif diet_input.same_batches(ours, diet_input.rasa_batch(self, message)):
            counts["compared"] += 1
        else:
            counts["differing"].append(message.get("text"))
        return served(self, message)

    DIETClassifier._predict = _predict  # type: ignore[method-assign]
    agent = Agent.load(model)

    async def parse_all() -> None:
        for text in texts(every):
            await agent.parse_message(text)

    asyncio.run(parse_all())
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--every", type=int, default=1, help="take every N-th text (default 1)")
    args = parser.parse_args()
    print(json.dumps(compare(args.model, args.every), ensure_ascii=False))


if __name__ == "__main__":
    main()
