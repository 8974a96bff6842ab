"""Answers kept between turns (bot.db.kept_reads, `EventDB(keep_answers=True).for_turn()`): one
version read a turn instead of the records' queries, an edit answered from the next turn on,
nothing kept or served while the version cannot be read."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from bot.db import DatabaseNotReady, EventDB
from bot.db.edits import FactEditor
from bot.db.kept_reads import KeptReads

# EventDB's public methods that are not a turn's questions: tools' and the NLU's own readers,
# the version itself, plumbing.
NOT_KEPT = {"all_events", "names", "data_version", "dispose", "for_turn"}


class Version:
    """A data version the test moves by hand; None: unreadable."""

    def __init__(self) -> None:
        self.value: int | None = 1
        self.reads = 0

    def __call__(self) -> int | None:
        self.reads += 1
        return self.value


class Reads:
    """A read function that counts its calls and answers with the call's number."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


# --- KeptReads ------------------------------------------------------------------------------


def test_an_answer_is_read_once_while_the_version_stands() -> None:
    version, read = Version(), Reads()
    kept = KeptReads(version)
    assert kept.confirm()
    assert [kept.get("q", read) for _ in range(3)] == [1, 1, 1]
    assert kept.confirm()
    assert kept.get("q", read) == 1 and read.calls == 1
    assert kept.get("other", read) == 2  # another question is read


def test_a_new_version_drops_every_kept_answer() -> None:
    version, read = Version(), Reads()
    kept = KeptReads(version)
    kept.confirm()
    kept.get("q", read)
    version.value = 2
    assert kept.confirm()
    assert kept.get("q", read) == 2 and len(kept) == 1


def test_an_unreadable_version_drops_them_and_says_so() -> None:
    version, read = Version(), Reads()
    kept = KeptReads(version)
    kept.confirm()
    kept.get("q", read)
    version.value = None
    assert not kept.confirm()
    assert len(kept) == 0
    version.value = 1  # back, at the version it had: the dropped answers are read again
    assert kept.confirm()
    assert kept.get("q", read) == 2


def test_a_failed_read_is_not_kept() -> None:
    kept = KeptReads(Version())
    kept.confirm()

    def failing() -> int:
        raise DatabaseNotReady("down")

    with pytest.raises(DatabaseNotReady):
        kept.get("q", failing)
    assert len(kept) == 0
    assert kept.get("q", Reads()) == 1


def test_a_read_that_overlapped_a_new_version_is_not_kept() -> None:
    version = Version()
    kept = KeptReads(version)
    kept.confirm()

    def read_while_an_edit_lands() -> str:
        version.value = 2
        kept.confirm()  # another thread's turn sees the edit meanwhile
        return "old data"

    assert kept.get("q", read_while_an_edit_lands) == "old data"  # this turn's own answer
    assert kept.get("q", Reads()) == 1  # but not kept for the next one


def test_the_least_recently_used_answer_goes_first_when_full() -> None:
    kept = KeptReads(Version(), max_answers=2)
    kept.confirm()
    kept.get("a", lambda: "a")
    kept.get("b", lambda: "b")
    kept.get("a", lambda: "read again")  # used: b is now the oldest
    kept.get("c", lambda: "c")
    assert len(kept) == 2
    assert kept.get("a", lambda: "read again") == "a"
    assert kept.get("b", lambda: "read again") == "read again"


# --- EventDB ------------------------------------------------------------------------------


@pytest.fixture()
def db(url: str) -> Iterator[EventDB]:
    database = EventDB(url, keep_answers=True)
    yield database
    database.dispose()


def statements(db: EventDB) -> list[str]:
    """The SQL `db`'s engine runs from now on (BEGINs aside)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(db._engine, "before_cursor_execute", record)
    return seen


def test_every_question_of_a_turn_is_kept() -> None:
    public = {
        name
        for name, member in inspect.getmembers(EventDB, inspect.isfunction)
        if not name.startswith("_")
    }
    kept = {name for name in public if getattr(getattr(EventDB, name), "kept", False)}
    assert kept == public - NOT_KEPT, "a new EventDB question: keep it (@_kept) or list it here"


def test_a_second_turn_reads_only_the_version(db: EventDB) -> None:
    first = db.for_turn()
    venue = first.venue_of_event("opening_ceremony")
    days = first.theme_days()
    sql = statements(db)
    second = db.for_turn()
    assert second.venue_of_event("opening_ceremony") == venue
    assert second.theme_days() == days
    assert second.venue_of_event("opening_ceremony") == venue
    assert len(sql) == 1 and "event_data_state" in sql[0]  # one version read for the turn


def test_an_edit_is_answered_from_the_next_turn_on(db: EventDB, url: str) -> None:
    before = db.for_turn()
    assert not before.theme_day("finance_day").date_confirmed
    editor = FactEditor(url, now=lambda: dt.datetime(2024, 9, 10, 2, tzinfo=dt.timezone.utc))
    try:
        editor.update(
            "theme_day",
            "finance_day",
            {"date_confirmed": True, "date": "2024-09-13", "note_zh": None, "note_en": None},
            "ann",
        )
    finally:
        editor.dispose()
    assert not before.theme_day("finance_day").date_confirmed  # that turn answers as it began
    after = db.for_turn()
    assert after.theme_day("finance_day").date_confirmed
    assert after.theme_day_on(dt.date(2024, 9, 13)).key == "finance_day"


@pytest.mark.parametrize(
    ("keep_answers", "asker"),
    [(True, "the object itself"), (False, "the object itself"), (False, "a turn")],
)
def test_only_a_turn_of_a_keeping_database_is_answered_from_kept_answers(
    url: str, keep_answers: bool, asker: str
) -> None:
    database = EventDB(url, keep_answers=keep_answers)
    sql = statements(database)
    ask = database if asker == "the object itself" else database.for_turn()
    assert ask.venue("iff_nansha") == ask.venue("iff_nansha") is not None
    assert sum("FROM venues" in statement for statement in sql) == 2
    database.dispose()


def test_while_the_version_cannot_be_read_turns_read_the_database(
    db: EventDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.for_turn().venue("iff_nansha")
    monkeypatch.setattr(db._kept, "_version", lambda: None)
    sql = statements(db)
    turn = db.for_turn()
    assert turn.venue("iff_nansha") is not None
    assert turn.venue("iff_nansha") is not None
    assert sum("FROM venues" in statement for statement in sql) == 2
