"""The actions' tests run against the seeded test database at the demo clock (Tuesday
10 Sept 2024, 10:00); a test that needs another time sets CYBERWEEK_NOW itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from actions import common
from bot.db import EventDB
from ops.harness import DEMO_NOW


@pytest.fixture(autouse=True)
def seeded(seeded_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", seeded_db_url)
    monkeypatch.setenv("CYBERWEEK_NOW", DEMO_NOW)
    common.event_db.cache_clear()


@pytest.fixture()
def db(seeded_db_url: str) -> Iterator[EventDB]:
    events = EventDB(seeded_db_url)
    yield events
    events.dispose()
