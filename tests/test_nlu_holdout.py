"""Held-out NLU check: intent accuracy on tests/nlu_holdout.yml must stay above a floor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot import paths

INTENT_ACCURACY_FLOOR = 0.90


def test_holdout_intent_accuracy_above_floor(
    trained_model: Path, server_env: dict[str, str], tmp_path: Path
) -> None:
    result = subprocess.run(
        [
            sys.executable, "-m", "rasa", "test", "nlu",
            "--model", str(trained_model),
            "--nlu", str(paths.REPO_ROOT / "tests" / "nlu_holdout.yml"),
            "--out", str(tmp_path),
            "--no-plot",
        ],  # fmt: skip
        cwd=paths.REPO_ROOT,
        env=server_env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads((tmp_path / "intent_report.json").read_text())
    errors = json.loads((tmp_path / "intent_errors.json").read_text())
    worst = "\n".join(
        f"  {e['text']!r}: expected {e['intent']}, got {e['intent_prediction']['name']}"
        for e in errors[:25]
    )
    print(f"held-out intent accuracy: {report['accuracy']:.3f} ({len(errors)} errors)")
    assert report["accuracy"] >= INTENT_ACCURACY_FLOOR, f"misclassified:\n{worst}"
