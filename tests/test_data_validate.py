"""`rasa data validate`: domain, NLU data, rules and stories agree with each other."""

from __future__ import annotations

import subprocess

from bot import paths
from ops.rasa_entry import rasa_command
from ops.training import RASA_DATA_DIRS


def test_rasa_data_validate() -> None:
    result = subprocess.run(
        rasa_command(
            "data",
            "validate",
            "--domain",
            str(paths.DOMAIN_FILE),
            "--data",
            *map(str, RASA_DATA_DIRS),
            "--config",
            str(paths.CONFIG_FILE),
        ),
        cwd=paths.REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
