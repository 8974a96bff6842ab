"""Conversation tests: tests/test_stories.yml through the trained model and the action server."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot import paths
from ops.rasa_entry import rasa_command

STORIES = paths.REPO_ROOT / "tests" / "test_stories.yml"


def test_conversation_stories_pass(
    trained_model: Path, endpoints_file: Path, server_env: dict[str, str], tmp_path: Path
) -> None:
    result = subprocess.run(
        rasa_command(
            "test",
            "core",
            "--model",
            str(trained_model),
            "--stories",
            str(STORIES),
            "--endpoints",
            str(endpoints_file),
            "--out",
            str(tmp_path),
            "--e2e",
            "--fail-on-prediction-errors",
        ),
        cwd=paths.REPO_ROOT,
        env=server_env,
        capture_output=True,
        text=True,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = (
        failed.read_text() if failed.exists() else result.stdout[-4000:] + result.stderr[-4000:]
    )
    assert result.returncode == 0, f"conversation tests failed:\n{details}"
    # Rasa silently evaluates nothing when it does not take a file for test stories.
    expected = STORIES.read_text(encoding="utf-8").count("- story:")
    assert expected > 0
    assert f"Evaluating {expected} stories" in result.stdout + result.stderr
