"""ops.training: how `rasa train` is run."""

from __future__ import annotations

from pathlib import Path


def test_every_training_is_full_and_leaves_no_rasa_cache() -> None:
    from ops.training import rasa_train_command, uncached_env

    env = uncached_env({"KEEP": "1"})
    assert env == {"KEEP": "1", "RASA_MAX_CACHE_SIZE": "0"}
    command = rasa_train_command(Path("out"), "name")
    assert command[command.index("train") + 1] == "--force"
