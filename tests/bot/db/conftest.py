"""Fixtures of the bot.db tests: the repository's seed, loaded once, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import paths
from bot.db import load_seed


@pytest.fixture(scope="module")
def loaded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's seed, loaded once; each test edits a copy."""
    path = tmp_path_factory.mktemp("template") / "event.db"
    load_seed(paths.SEED_DIR, f"sqlite:///{path}")
    return path


@pytest.fixture()
def url(loaded_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "event.db"
    shutil.copy(loaded_template, path)
    return f"sqlite:///{path}"
