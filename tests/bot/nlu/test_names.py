"""bot.nlu.names: one reader of the database names for the gazetteer and the resolver."""

from __future__ import annotations

import logging
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.nlu.constants import ENTITIES

from bot.nlu.gazetteer import DatabaseGazetteer
from bot.nlu.names import DatabaseNames, IndexCache, fold_name
from bot.nlu.resolver import EntityResolver
from tests.bot.nlu.helpers import NAMES, FakeClock, FakeNames, Name, found, message


def names(provider: FakeNames, clock: FakeClock, **delays: float) -> DatabaseNames:
    return DatabaseNames(provider, monotonic=clock, **delays)


def test_both_components_share_one_load() -> None:
    provider, clock = FakeNames(NAMES), FakeClock()
    shared = names(provider, clock)
    gazetteer = DatabaseGazetteer({}, names=shared)
    resolver = EntityResolver({}, names=shared)
    typo = {"entity": "event", "start": 0, "end": 3, "value": "开幕试", "extractor": "DIET"}
    msg = message("开幕试在国际金融论坛吗", [typo])
    resolver.process([msg])
    gazetteer.process([msg])
    assert provider.calls == 1
    assert [(e["entity"], e["value"]) for e in msg.get(ENTITIES)] == [
        ("event", "opening_ceremony"),  # the resolver's
        ("venue", "iff_nansha"),  # the gazetteer's
    ]


@pytest.fixture
def event_db(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A fake bot.db.queries.EventDB that counts connections and reads."""
    counts: dict[str, Any] = {"urls": [], "reads": 0}

    class FakeEventDB:
        def __init__(self, url: str | None = None) -> None:
            counts["urls"].append(url)

        def names(self) -> tuple[Name, ...]:
            counts["reads"] += 1
            return tuple(NAMES)

    fake_module = types.ModuleType("bot.db.queries")
    fake_module.EventDB = FakeEventDB  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.db.queries", fake_module)
    return counts


def test_components_created_by_rasa_share_the_database_of_their_url(
    event_db: dict[str, Any],
) -> None:
    url = "sqlite:///shared.db"
    gazetteer = DatabaseGazetteer.create({"database_url": url}, None, None, None)  # type: ignore[arg-type]
    resolver = EntityResolver.create({"database_url": url}, None, None, None)  # type: ignore[arg-type]
    msg = message("金融日在哪", [{"entity": "event", "start": 3, "end": 5, "value": "在哪"}])
    resolver.process([msg])
    gazetteer.process([msg])
    assert event_db == {"urls": [url], "reads": 1}
    assert found(msg, "DatabaseGazetteer") == [("theme_day", "finance_day", "金融日")]
    assert [e["entity"] for e in msg.get(ENTITIES)] == ["theme_day"]  # 在哪 dropped


def test_one_shared_instance_per_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from-env.db")
    first = DatabaseNames.shared("sqlite:///a.db")
    assert DatabaseNames.shared("sqlite:///a.db") is first
    assert DatabaseNames.shared("sqlite:///b.db") is not first
    # no URL configured: DATABASE_URL decides, as it does for EventDB
    assert DatabaseNames.shared(None) is DatabaseNames.shared("sqlite:///from-env.db")


def test_the_shortest_configured_delays_win() -> None:
    DatabaseGazetteer({"database_url": "sqlite:///x.db", "ttl_seconds": 600})
    EntityResolver({"database_url": "sqlite:///x.db", "retry_seconds": 5})
    shared = DatabaseNames.shared("sqlite:///x.db")
    assert (shared.ttl_seconds, shared.retry_seconds) == (300, 5)


def test_names_are_reloaded_after_the_ttl_and_indexes_rebuilt_only_then() -> None:
    provider, clock = FakeNames(NAMES, [*NAMES, Name("venue", "new_hall", "新展馆")]), FakeClock()
    source = names(provider, clock, ttl_seconds=300)
    builds: list[int] = []
    index = IndexCache(source, lambda entries: builds.append(len(entries)) or len(entries))
    assert index.get() == len(NAMES)
    clock.now += 299
    assert index.get() == len(NAMES)
    assert (provider.calls, builds) == (1, [len(NAMES)])
    clock.now += 2
    assert index.get() == len(NAMES) + 1
    assert provider.calls == 2
    assert builds == [len(NAMES), len(NAMES) + 1]
    snapshot = source.snapshot()
    assert snapshot is not None and snapshot.generation == 2


def test_a_failed_refresh_keeps_the_old_names_and_retries_later() -> None:
    provider, clock = FakeNames(NAMES, RuntimeError("db down"), NAMES), FakeClock()
    source = names(provider, clock, ttl_seconds=300, retry_seconds=30)
    first = source.snapshot()
    clock.now += 301
    assert source.snapshot() is first  # the refresh failed: old names
    assert provider.calls == 2
    clock.now += 29
    assert source.snapshot() is first  # within the retry delay: no new attempt
    assert provider.calls == 2
    clock.now += 2
    refreshed = source.snapshot()
    assert provider.calls == 3
    assert refreshed is not None and first is not None
    assert refreshed.generation == first.generation + 1


def test_no_names_until_the_first_load_succeeds() -> None:
    provider, clock = FakeNames(RuntimeError("no tables"), NAMES), FakeClock()
    source = names(provider, clock, retry_seconds=30)
    assert source.snapshot() is None
    clock.now += 31
    snapshot = source.snapshot()
    assert snapshot is not None and snapshot.generation == 1


def test_an_outage_is_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    error = RuntimeError("no tables")
    provider, clock = FakeNames(error, error, NAMES, error), FakeClock()
    source = names(provider, clock, ttl_seconds=300, retry_seconds=30)
    with caplog.at_level(logging.INFO, logger="bot.nlu.names"):
        source.snapshot()
        clock.now += 31
        source.snapshot()  # fails again: no second warning
        clock.now += 31
        source.snapshot()  # recovered
        clock.now += 301
        source.snapshot()  # a new outage: warned again
    levels = [(r.levelno, "no tables" in r.getMessage()) for r in caplog.records]
    assert levels == [(logging.WARNING, True), (logging.INFO, False), (logging.WARNING, True)]
    assert provider.calls == 4


def test_fold_name_is_the_one_name_folding() -> None:
    assert fold_name("國際金融論壇（ＩＦＦ）") == "国际金融论坛(iff)"
    assert fold_name("  Opening \t Ceremony ") == "opening ceremony"


def test_the_nlu_loads_without_the_database_layer() -> None:
    code = (
        "import sys, bot.nlu.gazetteer, bot.nlu.resolver\n"
        "assert not [m for m in sys.modules if m.startswith('bot.db')], 'bot.db imported'\n"
    )
    repo = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, cwd=repo)
