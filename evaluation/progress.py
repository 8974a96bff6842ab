"""What the evaluation's long-running commands (`cyberweek eval`, `cyberweek bench`) share:
progress lines and the environment of the Rasa processes they start."""

from __future__ import annotations

import os


def step(number: int, total: int, text: str) -> None:
    print(f"\n==> [{number}/{total}] {text}", flush=True)


def say(text: str) -> None:
    print(f"    {text}", flush=True)


def quiet_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment for a Rasa child, minus telemetry and TensorFlow's chatter."""
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONWARNINGS": "ignore",
        **(extra or {}),
    }
