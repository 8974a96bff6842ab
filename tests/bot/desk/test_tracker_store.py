"""DeskTrackerStore: Rasa's SQL tracker store on an engine that keeps its connections."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool, QueuePool

from bot.db.engine import tracker_store_engine
from bot.desk import tracker_store
from bot.desk.tracker_store import DeskTrackerStore, off_the_loop


@pytest.fixture()
def store(tmp_path: Path) -> DeskTrackerStore:
    return DeskTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "c.db"))


def _tracker(sender: str, *texts: str) -> DialogueStateTracker:
    events = [ActionExecuted("action_listen")]
    events += [UserUttered(text) for text in texts]
    return DialogueStateTracker.from_events(sender, events)


def test_sqlite_store_keeps_a_pool_in_write_ahead_mode(store: DeskTrackerStore) -> None:
    assert isinstance(store.engine.pool, QueuePool)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_saved_turns_are_read_back_by_a_new_store(store: DeskTrackerStore, tmp_path: Path) -> None:
    asyncio.run(store.save(_tracker("web:a", "开幕式在哪")))
    asyncio.run(store.save(_tracker("web:a", "开幕式在哪", "几号？")))
    again = DeskTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "c.db"))
    tracker = asyncio.run(again.retrieve("web:a"))
    assert tracker is not None
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == [
        "开幕式在哪",
        "几号？",
    ]
    with sqlite3.connect(tmp_path / "c.db") as connection:  # another reader, as the desk is
        (count,) = connection.execute("SELECT COUNT(*) FROM events").fetchone()
    assert count == 3  # each event once: the second save added only the new turn


def test_store_works_from_a_worker_thread(store: DeskTrackerStore) -> None:
    async def save_in_thread() -> None:
        await asyncio.to_thread(asyncio.run, store.save(_tracker("web:b", "你好")))

    asyncio.run(save_in_thread())
    assert asyncio.run(store.retrieve("web:b")) is not None


def test_postgresql_engine_keeps_rasas_pool_size_without_a_ping_per_save(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SQL_POOL_SIZE", "7")
    engine = tracker_store_engine(make_url("postgresql://u:p@127.0.0.1:1/rasa"))
    assert engine.pool._pre_ping is False  # a dropped connection: the save is tried again
    assert engine.pool.size() == 7
    assert not isinstance(engine.pool, NullPool)


def test_a_save_stores_the_rows_rasas_own_store_would(
    store: DeskTrackerStore, tmp_path: Path
) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import BotUttered, SlotSet

    events = [
        ActionExecuted("action_listen"),
        UserUttered("开幕式在哪", {"name": "ask_venue", "confidence": 0.9}),
        SlotSet("event", "opening_ceremony"),
        ActionExecuted("action_answer_venue"),
        BotUttered("南沙"),
        ActionExecuted("action_listen"),
    ]
    tracker = DialogueStateTracker.from_events("web:c", events)
    rasas = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db"))
    asyncio.run(rasas.save(tracker))
    asyncio.run(store.save(tracker))
    columns = "sender_id, type_name, timestamp, intent_name, action_name, data"

    def rows(db: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(tmp_path / db) as connection:
            return connection.execute(f"SELECT {columns} FROM events ORDER BY id").fetchall()

    assert rows("c.db") == rows("rasa.db")
    assert len(rows("c.db")) == len(events)


@pytest.mark.parametrize("all_sessions", [False, True], ids=["latest-session", "all-sessions"])
def test_reads_and_counts_what_rasas_own_store_does(tmp_path: Path, all_sessions: bool) -> None:
    """A conversation in its second session, stored by ours and by Rasa's own store."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted

    def session(start: float, text: str) -> list[Event]:
        return [
            ActionExecuted("action_session_start", timestamp=start),
            SessionStarted(timestamp=start + 1),
            ActionExecuted("action_listen", timestamp=start + 2),
            UserUttered(text, timestamp=start + 3),
        ]

    def texts(tracker: DialogueStateTracker | None) -> list[str | None]:
        assert tracker is not None
        return [e.text for e in tracker.events if isinstance(e, UserUttered)]

    def two_sessions(store: SQLTrackerStore) -> tuple[list[str | None], int]:
        asyncio.run(store.save(DialogueStateTracker.from_events("web:e", session(100, "在哪"))))
        asyncio.run(store.save(DialogueStateTracker.from_events("web:f", session(150, "你好"))))
        tracker = asyncio.run(store.retrieve("web:e"))
        assert tracker is not None
        for event in session(200, "几号？"):  # as Rasa's processor starts a new session
            tracker.update(event)
        asyncio.run(store.save(tracker))
        tracker.update(ActionExecuted("action_listen", timestamp=300))
        with store.session_scope() as session_:
            unsaved = len(list(store._additional_events(session_, tracker)))
        return texts(asyncio.run(store._retrieve("web:e", all_sessions))), unsaved

    domain = Domain.empty()
    ours = DeskTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "ours.db"))
    rasas = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    read_back, unsaved = two_sessions(ours)
    assert (read_back, unsaved) == two_sessions(rasas)  # the count, quirks included
    assert read_back == (["在哪", "几号？"] if all_sessions else ["几号？"])
    assert asyncio.run(ours._retrieve("web:nobody", all_sessions)) is None


def test_a_save_whose_turn_is_cancelled_still_happens(store: DeskTrackerStore) -> None:
    """Sanic cancels a turn whose client hangs up; the turn's events are stored all the same,
    also when the save was still waiting for the store's thread."""

    async def another_turns_sql() -> None:
        time.sleep(0.3)  # blocking, as SQLAlchemy is

    async def hang_up() -> None:
        busy = asyncio.create_task(off_the_loop(another_turns_sql()))
        save = asyncio.create_task(store.save(_tracker("web:d", "开幕式在哪")))
        await asyncio.sleep(0.05)  # the save waits behind the other turn's SQL
        save.cancel()
        with pytest.raises(asyncio.CancelledError):
            await save
        await busy
        await asyncio.sleep(0.3)

    asyncio.run(hang_up())
    tracker = asyncio.run(store.retrieve("web:d"))
    assert tracker is not None
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["开幕式在哪"]


@pytest.mark.parametrize(
    ("failures", "attempts_made", "stored"),
    [(2, 3, True), (10, 4, False)],
    ids=["stored-on-the-third-attempt", "gives-up-after-four"],
)
def test_a_save_whose_connection_fails_is_tried_again(
    store: DeskTrackerStore,
    monkeypatch: pytest.MonkeyPatch,
    failures: int,
    attempts_made: int,
    stored: bool,
) -> None:
    """PostgreSQL restarting under a save: Rasa's fallback would keep the turn in memory,
    where the next message (on any instance) does not find it."""
    attempts = _failing_first(store, monkeypatch, failures)
    monkeypatch.setattr(tracker_store, "SAVE_RETRY_PAUSES_S", (0.01, 0.01, 0.01))
    try:
        asyncio.run(store.save(_tracker("web:e", "开幕式在哪")))
    except sa.exc.OperationalError:
        assert not stored
    assert len(attempts) == attempts_made
    tracker = asyncio.run(store.retrieve("web:e"))
    texts = [e.text for e in tracker.events if isinstance(e, UserUttered)] if tracker else []
    assert texts == (["开幕式在哪"] if stored else [])


def _failing_first(
    store: DeskTrackerStore, monkeypatch: pytest.MonkeyPatch, failures: int
) -> list[int]:
    """The store's INSERT fails with a lost connection `failures` times, then works; the
    attempts made."""
    attempts: list[int] = []
    insert = store._insert_new_events

    async def flaky(tracker: DialogueStateTracker) -> None:
        attempts.append(1)
        if len(attempts) <= failures:
            lost = ConnectionError("server closed the connection unexpectedly")
            raise sa.exc.OperationalError("INSERT INTO events", {}, lost)
        await insert(tracker)

    monkeypatch.setattr(store, "_insert_new_events", flaky)
    return attempts


def _statements(store: DeskTrackerStore) -> list[str]:
    seen: list[str] = []
    sa.event.listen(
        store.engine, "before_cursor_execute", lambda _c, _k, statement, *_: seen.append(statement)
    )
    return seen


@pytest.mark.parametrize("wrapped", [False, True], ids=["store", "behind-rasas-fail-safe-wrapper"])
def test_a_new_conversation_is_stored_from_its_first_event_without_a_count(
    store: DeskTrackerStore, tmp_path: Path, wrapped: bool
) -> None:
    statements = _statements(store)
    used = FailSafeTrackerStore(store) if wrapped else store  # as Rasa's processor has it
    tracker = asyncio.run(used.get_or_create_tracker("web:g", append_action_listen=False))
    assert tracker.events == type(tracker.events)()  # created, nothing stored
    assert not any(s.lstrip().upper().startswith("INSERT") for s in statements)
    for event in _tracker("web:g", "你好").events:
        tracker.update(event)
    asyncio.run(used.save(tracker))
    assert not any("count(" in s for s in statements)
    read_back = asyncio.run(
        DeskTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "c.db")).retrieve(
            "web:g"
        )
    )
    assert read_back is not None and len(read_back.events) == 2


def test_a_read_tracker_is_saved_without_a_count_and_a_second_save_counts(
    store: DeskTrackerStore, tmp_path: Path
) -> None:
    asyncio.run(store.save(_tracker("web:h", "开幕式在哪")))
    tracker = asyncio.run(store.retrieve("web:h"))
    assert tracker is not None
    statements = _statements(store)
    tracker.update(UserUttered("几号？"))
    asyncio.run(store.save(tracker))
    assert not any("count(" in s for s in statements)
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(tracker))  # the same object again: counted, as Rasa does
    assert sum("count(" in s for s in statements) == 1
    with sqlite3.connect(tmp_path / "c.db") as connection:
        rows = connection.execute(
            "SELECT type_name FROM events WHERE sender_id = 'web:h' ORDER BY id"
        ).fetchall()
    assert [name for (name,) in rows] == ["action", "user", "user", "action"]  # each once
