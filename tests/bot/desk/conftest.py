"""Fixtures of the desk's API tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from bot.db.desk import DeskStore
from tests.desk_client import rest_conversation


@pytest.fixture()
def visitor(desk_store: DeskStore) -> Iterator[Callable[[], str]]:
    """New REST sender ids; their conversations leave the queue after the test."""
    made: list[str] = []

    def new() -> str:
        made.append(f"desk-test-{uuid.uuid4().hex}")
        return made[-1]

    yield new
    for sender in made:
        active = desk_store.active_handoff(rest_conversation(sender))
        if active is not None:
            desk_store.close(active.id, None, "left")
