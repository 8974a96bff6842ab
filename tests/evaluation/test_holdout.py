"""Regression guard: the stored model's held-out scores must stay above floors.

Scored the way `make eval` scores (evaluation/nlu.py: final intent after the fallback
classifier; all extractors' entities as (entity, value) pairs against the gold annotations,
dates resolved against the test clock), so a data or config change that drops quality fails
`make test`. The floors are the numbers in docs/evaluation.md minus a small margin for the
run-to-run noise of training on a shared machine; raise them when the model gets better.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot import paths
from evaluation import HOLDOUT_DIR
from evaluation.nlu import report_from_json

# #13 added 17 intents and the long-tail batches blind_5..7 (3,000 questions in all):
# measured 0.951 and entity F1 0.962 (docs/evaluation.md of 2026-12-01 15:02)
INTENT_ACCURACY_FLOOR = 0.94
ENTITY_F1_FLOOR = 0.95


def test_holdout_scores_above_floors(
    trained_model: Path, server_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "holdout.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "evaluation.nlu",
            "--model",
            str(trained_model),
            "--holdout",
            str(HOLDOUT_DIR),
            "--json",
            str(out),
            "--quiet",
        ],
        cwd=paths.REPO_ROOT,
        env={**server_env, "RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = report_from_json(out.read_text(encoding="utf-8"))
    print(result.stdout.strip().splitlines()[-1])
    worst = "\n".join(
        f"  {e['text']!r}: expected {e['expected']}, got {e['predicted']} ({e['confidence']:.2f})"
        for e in report.intent_errors[:25]
    )
    entities = "\n".join(
        f"  {e['text']!r}: missing {e['missing']}, spurious {e['spurious']}"
        for e in report.entity_errors[:25]
    )
    assert report.intent_accuracy >= INTENT_ACCURACY_FLOOR, f"misclassified:\n{worst}"
    assert report.entity_f1 >= ENTITY_F1_FLOOR, f"entity errors:\n{entities}"
