"""Fixtures of the NLU component tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.nlu.names import DatabaseNames
from bot.nlu.normalizer import TextNormalizer


@pytest.fixture(autouse=True)
def _fresh_shared_names() -> Iterator[None]:
    """Every test starts without the process's shared DatabaseNames (no names cached from a
    database another test used)."""
    DatabaseNames.forget_shared()
    yield
    DatabaseNames.forget_shared()


@pytest.fixture
def normalizer() -> TextNormalizer:
    return TextNormalizer.create(TextNormalizer.get_default_config(), None, None, None)  # type: ignore[arg-type]
