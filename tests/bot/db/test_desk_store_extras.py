"""bot.db.desk: canned replies, private notes and labels (the console's extras), in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, inspect

from bot.db.desk import (
    CannedExists,
    CannedNotFound,
    DeskStore,
    HandoffNotFound,
    InvalidInput,
)
from bot.db.desk.models import MAX_LABELS, STAFF_TEXT_CHARS

START = dt.datetime(2024, 9, 10, 2, 0, tzinfo=dt.timezone.utc)


class Clock:
    """One second later on every reading: creation order and "changed" times are plain."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[DeskStore]:
    desk = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}", now=Clock())
    desk.ensure_schema()
    yield desk
    desk.dispose()


@pytest.fixture()
def ann(store: DeskStore) -> int:
    return store.add_staff("ann", "Ann", "editor", "$argon2id$stand-in").id


@pytest.fixture()
def handoff(store: DeskStore) -> int:
    return store.request_handoff("web:a", "webchat", "zh", "asked", "转人工").id


def audit(store: DeskStore, prefix: str) -> list[tuple[str, int | None, str, str]]:
    """(action, staff, target, detail) of the entries whose action starts so, oldest first."""
    entries = [e for e in reversed(store.audit_log(limit=1000)) if e.action.startswith(prefix)]
    return [(e.action, e.staff_id, e.target, e.detail) for e in entries]


def test_ensure_schema_creates_the_new_tables(store: DeskStore) -> None:
    tables = set(inspect(store._engine).get_table_names())
    assert {"desk_canned_replies", "desk_notes", "desk_handoff_labels"} <= tables
    store.ensure_schema()  # and accepts them the second time


# ------------------------------------------------------------------------ canned replies
def test_canned_replies_are_added_updated_and_deleted_with_audit(
    store: DeskStore, ann: int
) -> None:
    hours = store.add_canned(" Hours ", "服务台 9:00-17:00 开放。", "The desk is open 9-17.", ann)
    bye = store.add_canned("bye", "再见！", "Goodbye!", ann)
    assert (hours.shortcut, hours.updated_by) == ("hours", ann)  # trimmed and lower-cased
    assert [c.shortcut for c in store.canned_replies()] == ["bye", "hours"]

    changed = store.update_canned(hours.id, "desk_hours", "九点开门。", "Open at nine.", ann)
    assert (changed.id, changed.shortcut, changed.text_zh) == (hours.id, "desk_hours", "九点开门。")
    assert changed.updated_at > hours.updated_at

    store.delete_canned(bye.id, ann)
    assert [c.shortcut for c in store.canned_replies()] == ["desk_hours"]
    assert audit(store, "canned.") == [
        ("canned.add", ann, "hours", f"id={hours.id}"),
        ("canned.add", ann, "bye", f"id={bye.id}"),
        ("canned.update", ann, "desk_hours", f"id={hours.id} was=hours"),
        ("canned.delete", ann, "bye", f"id={bye.id}"),
    ]


def test_a_shortcut_is_unique_on_adding_and_on_renaming(store: DeskStore, ann: int) -> None:
    hours = store.add_canned("hours", "中", "en", ann)
    wait = store.add_canned("wait", "请稍候", "One moment", ann)
    with pytest.raises(CannedExists):
        store.add_canned("HOURS", "中", "en", ann)
    with pytest.raises(CannedExists):
        store.update_canned(wait.id, "hours", "请稍候", "One moment", ann)
    assert [(c.id, c.shortcut) for c in store.canned_replies()] == [
        (hours.id, "hours"),
        (wait.id, "wait"),
    ]
    assert [a[0] for a in audit(store, "canned.")] == ["canned.add", "canned.add"]


@pytest.mark.parametrize(
    ("shortcut", "text_zh", "text_en"),
    [
        ("", "中", "en"),
        ("has space", "中", "en"),
        ("问候", "中", "en"),
        ("x" * 33, "中", "en"),
        ("/hours", "中", "en"),
        ("ok", "   ", "en"),
        ("ok", "中", ""),
        ("ok", "中" * (STAFF_TEXT_CHARS + 1), "en"),
    ],
)
def test_canned_replies_are_validated(
    store: DeskStore, ann: int, shortcut: str, text_zh: str, text_en: str
) -> None:
    with pytest.raises(InvalidInput):
        store.add_canned(shortcut, text_zh, text_en, ann)
    assert store.canned_replies() == []


def test_the_longest_shortcut_and_text_are_accepted(store: DeskStore, ann: int) -> None:
    longest = store.add_canned("a" * 32, "中" * STAFF_TEXT_CHARS, "e" * STAFF_TEXT_CHARS, ann)
    assert len(longest.text_zh) == STAFF_TEXT_CHARS


def test_changing_a_missing_canned_reply_is_refused(store: DeskStore, ann: int) -> None:
    with pytest.raises(CannedNotFound):
        store.update_canned(404, "hours", "中", "en", ann)
    with pytest.raises(CannedNotFound):
        store.delete_canned(404, ann)


# ------------------------------------------------------------------------ notes
def test_notes_are_kept_in_order_and_audited_without_their_text(
    store: DeskStore, ann: int, handoff: int
) -> None:
    before = store.handoff(handoff)
    first = store.add_note(handoff, ann, "  访客是第二次来问了  ")
    second = store.add_note(handoff, ann, "VIP: handle with care")
    assert [(n.id, n.text, n.staff_id) for n in store.notes(handoff)] == [
        (first.id, "访客是第二次来问了", ann),
        (second.id, "VIP: handle with care", ann),
    ]
    assert first.created_at < second.created_at
    # the queue's "changed" poll sees the conversation (other consoles reload it)
    after = store.handoff(handoff)
    assert before is not None and after is not None and after.updated_at > before.updated_at
    assert audit(store, "handoff.note") == [
        ("handoff.note", ann, str(handoff), f"note={first.id}"),
        ("handoff.note", ann, str(handoff), f"note={second.id}"),
    ]
    assert store.notes(handoff + 1) == []


def test_a_closed_conversation_takes_notes_but_keeps_its_place(
    store: DeskStore, ann: int, handoff: int
) -> None:
    closed = store.close(handoff, ann, "resolved")
    store.add_note(handoff, ann, "follow up by mail")
    again = store.handoff(handoff)
    assert again is not None and again.updated_at == closed.updated_at
    assert [n.text for n in store.notes(handoff)] == ["follow up by mail"]


@pytest.mark.parametrize("text", ["", "   \n", "x" * (STAFF_TEXT_CHARS + 1)])
def test_notes_are_validated(store: DeskStore, ann: int, handoff: int, text: str) -> None:
    with pytest.raises(InvalidInput):
        store.add_note(handoff, ann, text)
    assert store.notes(handoff) == []


def test_a_note_needs_a_conversation(store: DeskStore, ann: int) -> None:
    with pytest.raises(HandoffNotFound):
        store.add_note(12345, ann, "nobody here")


# ------------------------------------------------------------------------ labels
def test_labels_replace_the_set_and_are_audited(store: DeskStore, ann: int, handoff: int) -> None:
    other = store.request_handoff("web:b", "webchat", "en", "button", None).id
    assert store.set_labels(handoff, ann, ["VIP", "lost_item", "vip", " press "]) == [
        "lost_item",
        "press",
        "vip",
    ]
    store.set_labels(other, ann, ["tickets"])
    assert store.set_labels(handoff, ann, ["press", "complaint"]) == ["complaint", "press"]
    assert store.labels([handoff, other, 999]) == {
        handoff: ["complaint", "press"],
        other: ["tickets"],
        999: [],
    }
    store.set_labels(handoff, ann, ["complaint", "press"])  # the same set: nothing to record
    store.set_labels(other, ann, [])
    assert store.labels([other]) == {other: []}
    assert store.labels([]) == {}
    assert audit(store, "handoff.labels") == [
        ("handoff.labels", ann, str(handoff), "lost_item,press,vip"),
        ("handoff.labels", ann, str(other), "tickets"),
        ("handoff.labels", ann, str(handoff), "complaint,press"),
        ("handoff.labels", ann, str(other), ""),
    ]


def test_the_labels_of_many_handoffs_are_one_query(store: DeskStore, ann: int) -> None:
    """The queue lists up to hundreds of handoffs: their labels come in one statement."""
    ids = [store.request_handoff(f"web:{n}", "webchat", "zh", "asked", None).id for n in range(5)]
    for handoff_id in ids:
        store.set_labels(handoff_id, ann, [f"n{handoff_id}", "all"])
    statements: list[str] = []

    def listen(conn: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement)

    event.listen(store._engine, "before_cursor_execute", listen)
    try:
        found = store.labels(ids)
    finally:
        event.remove(store._engine, "before_cursor_execute", listen)
    assert found == {i: sorted(["all", f"n{i}"]) for i in ids}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1, statements


def test_at_most_ten_labels(store: DeskStore, ann: int, handoff: int) -> None:
    ten = [f"l{i}" for i in range(MAX_LABELS)]
    assert store.set_labels(handoff, ann, ten) == sorted(ten)
    with pytest.raises(InvalidInput):
        store.set_labels(handoff, ann, [*ten, "eleven"])
    assert store.labels([handoff])[handoff] == sorted(ten)  # unchanged


@pytest.mark.parametrize("labels", [["has space"], [""], ["x" * 33], ["标签"], ["ok", 7], "vip"])
def test_labels_are_validated(store: DeskStore, ann: int, handoff: int, labels: object) -> None:
    store.set_labels(handoff, ann, ["keep"])
    with pytest.raises(InvalidInput):
        store.set_labels(handoff, ann, labels)  # type: ignore[arg-type]
    assert store.labels([handoff])[handoff] == ["keep"]


def test_labels_need_a_conversation(store: DeskStore, ann: int) -> None:
    with pytest.raises(HandoffNotFound):
        store.set_labels(4040, ann, ["vip"])
