"""bot.db.desk: the handoff queue, staff accounts and audit log in SQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot import paths
from bot.db.desk import (
    AlreadyClaimed,
    DeskError,
    DeskSchemaError,
    DeskStore,
    HandoffClosed,
    HandoffNotFound,
    StaffExists,
)
from bot.db.seed import load_seed

START = dt.datetime(2024, 9, 10, 2, 0, tzinfo=dt.timezone.utc)


class TickingClock:
    """A clock that moves one second per reading, so creation order is unambiguous."""

    def __init__(self) -> None:
        self.now = START
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            self.now += dt.timedelta(seconds=1)
            return self.now


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture()
def store(db_url: str) -> Iterator[DeskStore]:
    desk = DeskStore(db_url, now=TickingClock())
    desk.ensure_schema()
    yield desk
    desk.dispose()


def add(store: DeskStore, name: str, role: str = "agent") -> int:
    return store.add_staff(name, name.title(), role, "$argon2id$stand-in").id


def test_asking_twice_keeps_one_place_in_the_queue(store: DeskStore) -> None:
    first = store.request_handoff("web:a", "webchat", "zh", "asked", "转人工")
    again = store.request_handoff("web:a", "webchat", "zh", "button", "人呢？")
    assert again.id == first.id
    assert again.last_visitor_message == "人呢？"
    assert [h.id for h in store.handoffs()] == [first.id]


def test_queue_positions_follow_arrival_and_skip_claimed_ones(store: DeskStore) -> None:
    ann = add(store, "ann")
    a = store.request_handoff("web:a", "webchat", "zh", "asked", None)
    b = store.request_handoff("wx:b", "wechat", "en", "fallback", "help")
    c = store.request_handoff("rest:c", "rest", "en", "asked", "agent")
    assert [store.queue_position(h.id) for h in (a, b, c)] == [1, 2, 3]
    store.claim(a.id, ann)
    assert [store.queue_position(h.id) for h in (a, b, c)] == [None, 1, 2]


def test_one_responder_and_an_explicit_take_over(store: DeskStore) -> None:
    ann, bo = add(store, "ann"), add(store, "bo")
    handoff = store.request_handoff("web:a", "webchat", "zh", "asked", None)
    claimed = store.claim(handoff.id, ann)
    assert (claimed.status, claimed.assignee_id) == ("open", ann)
    assert store.claim(handoff.id, ann).assignee_id == ann  # claiming one's own again is fine
    with pytest.raises(AlreadyClaimed) as collision:
        store.claim(handoff.id, bo)
    assert collision.value.assignee == "Ann"
    taken = store.claim(handoff.id, bo, take_over=True)
    assert taken.assignee_id == bo
    # the visitor's wait ended at the first pick-up, not at the take-over
    assert taken.claimed_at == claimed.claimed_at
    actions = [entry.action for entry in store.audit_log()]
    assert actions[:3] == ["handoff.take_over", "handoff.claim", "handoff.claim"]


def test_a_closed_handoff_cannot_be_claimed_and_the_next_request_opens_a_new_one(
    store: DeskStore,
) -> None:
    ann = add(store, "ann")
    handoff = store.request_handoff("web:a", "webchat", "en", "asked", None)
    closed = store.close(handoff.id, ann, "returned")
    assert (closed.status, closed.outcome, closed.active) == ("closed", "returned", False)
    assert closed.closed_at is not None and closed.closed_at.tzinfo is not None
    with pytest.raises(HandoffClosed):
        store.claim(handoff.id, ann)
    with pytest.raises(HandoffClosed):
        store.close(handoff.id, ann, "resolved")
    assert store.active_handoff("web:a") is None
    assert store.request_handoff("web:a", "webchat", "en", "asked", None).id != handoff.id


def test_only_one_active_handoff_per_conversation_when_processes_race(db_url: str) -> None:
    stores = [DeskStore(db_url) for _ in range(4)]
    stores[0].ensure_schema()
    ids: list[int] = []
    barrier = threading.Barrier(len(stores))

    def ask(desk: DeskStore) -> None:
        barrier.wait()
        ids.append(desk.request_handoff("web:race", "webchat", "zh", "asked", None).id)

    threads = [threading.Thread(target=ask, args=(desk,)) for desk in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(ids) == len(stores) and len(set(ids)) == 1
    assert len(stores[0].handoffs()) == 1
    for desk in stores:
        desk.dispose()


def test_the_queue_survives_a_restart_and_a_seed_reload(db_url: str) -> None:
    first = DeskStore(db_url)
    first.ensure_schema()
    add(first, "ann")
    waiting = first.request_handoff("web:a", "webchat", "zh", "asked", "转人工")
    first.dispose()
    load_seed(paths.SEED_DIR, url=db_url)  # rebuilds the event tables only
    load_seed(paths.SEED_DIR, url=db_url)
    second = DeskStore(db_url)
    second.ensure_schema()
    assert second.staff("ann") is not None
    assert second.active_handoff("web:a") == waiting
    second.dispose()


def test_staff_names_are_unique_and_roles_known(store: DeskStore) -> None:
    add(store, "ann")
    with pytest.raises(StaffExists):
        add(store, "ann")
    with pytest.raises(DeskError, match="role"):
        store.add_staff("cy", "Cy", "owner", "h")
    store.set_disabled("ann", True)
    assert store.password_hash("ann") is None  # a disabled account cannot log in
    assert [entry.action for entry in store.audit_log(2)] == ["staff.disable", "staff.add"]


def test_bad_requests_are_refused_with_a_reason(store: DeskStore) -> None:
    with pytest.raises(DeskError, match="channel"):
        store.request_handoff("x", "telegram", "zh", "asked", None)
    with pytest.raises(DeskError, match="conversation id"):
        store.request_handoff("x" * 129, "rest", "zh", "asked", None)
    with pytest.raises(DeskError, match="reason"):
        store.request_handoff("x", "rest", "zh", "bored", None)
    long = store.request_handoff("rest:long", "rest", "zh", "asked", "长" * 5000)
    assert len(long.last_visitor_message or "") == 500


def test_times_must_carry_a_time_zone(db_url: str) -> None:
    naive = DeskStore(db_url, now=lambda: dt.datetime(2024, 9, 10, 10, 0))
    naive.ensure_schema()
    with pytest.raises(Exception, match="timezone-aware"):
        naive.request_handoff("web:a", "webchat", "zh", "asked", None)
    naive.dispose()


def test_desk_tables_with_other_columns_are_refused_not_rebuilt(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE desk_staff (id INTEGER PRIMARY KEY, name TEXT)"))
        connection.execute(text("INSERT INTO desk_staff (name) VALUES ('kept')"))
    desk = DeskStore(db_url)
    with pytest.raises(DeskSchemaError, match="desk_staff"):
        desk.ensure_schema()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM desk_staff")).scalar_one() == "kept"
    desk.dispose()
    engine.dispose()


# --- the console's live view, the REST outbox, staff on duty ------------------------------
def test_the_queue_version_moves_with_every_change_and_says_what_changed(
    store: DeskStore,
) -> None:
    """The console's stream polls the version and sends the ids changed since the last one."""
    empty = store.queue_version()
    assert (empty.latest_update, empty.count, empty.key) == (None, 0, "-/0")
    a = store.request_handoff("web:a", "webchat", "zh", "asked", None)
    b = store.request_handoff("web:b", "webchat", "zh", "asked", None)
    first = store.queue_version()
    assert (first.latest_update, first.count) == (b.updated_at, 2)
    assert first.latest_update is not None and first.latest_update.tzinfo is not None
    assert store.queue_version() == first  # reading changes nothing
    assert first.latest_update is not None
    assert store.changed_since(first.latest_update) == []
    claimed = store.claim(a.id, add(store, "ann"))
    second = store.queue_version()
    assert second != first and second.key != first.key
    assert second.latest_update == claimed.updated_at
    assert store.changed_since(first.latest_update) == [a.id]
    assert sorted(store.changed_since(START)) == sorted([a.id, b.id])


def test_a_message_while_waiting_updates_the_preview_and_the_change_time(
    store: DeskStore,
) -> None:
    waiting = store.request_handoff("rest:a", "rest", "zh", "asked", "转人工")
    wrote = store.visitor_wrote("rest:a", "还在吗？")
    assert wrote is not None and wrote.id == waiting.id
    assert wrote.last_visitor_message == "还在吗？" and wrote.updated_at > waiting.updated_at
    assert store.changed_since(waiting.updated_at) == [waiting.id]
    silent = store.visitor_wrote("rest:a", None)  # e.g. a sticker: the preview stays
    assert silent is not None and silent.last_visitor_message == "还在吗？"
    assert silent.updated_at > wrote.updated_at
    long = store.visitor_wrote("rest:a", "长" * 2000)
    assert long is not None and len(long.last_visitor_message or "") == 500


def test_a_message_without_an_active_handoff_changes_nothing(store: DeskStore) -> None:
    assert store.visitor_wrote("rest:nobody", "hello") is None
    handoff = store.request_handoff("rest:a", "rest", "en", "asked", "help")
    store.close(handoff.id, None, "returned")
    before = store.queue_version()
    assert store.visitor_wrote("rest:a", "thanks") is None
    assert store.queue_version() == before
    assert store.handoff(handoff.id).last_visitor_message == "help"  # type: ignore[union-attr]


def test_staff_on_duty_counts_people_recently_seen_not_sessions(db_url: str) -> None:
    clock = TickingClock()
    store = DeskStore(db_url, now=clock)
    store.ensure_schema()
    ann, bo, cy = add(store, "ann"), add(store, "bo"), add(store, "cy")
    assert store.staff_on_duty(START) == 0
    store.add_session("h-ann-1", ann, "c")
    store.add_session("h-ann-2", ann, "c")  # two browser tabs: one person
    store.add_session("h-bo", bo, "c")
    store.add_session("h-cy", cy, "c")
    assert store.staff_on_duty(START) == 3
    store.set_disabled("cy", True)
    assert store.staff_on_duty(START) == 2
    later = clock()
    assert store.staff_on_duty(later) == 0  # nobody seen since
    store.touch_session("h-bo")
    assert store.staff_on_duty(later) == 1
    store.dispose()


def test_handoffs_filter_by_assignee_order_newest_first_and_limit(store: DeskStore) -> None:
    ann, bo = add(store, "ann"), add(store, "bo")
    a = store.request_handoff("web:a", "webchat", "zh", "asked", None)
    b = store.request_handoff("web:b", "webchat", "zh", "asked", None)
    c = store.request_handoff("web:c", "webchat", "zh", "asked", None)
    store.claim(a.id, ann)
    store.claim(c.id, ann)
    store.claim(b.id, bo)
    assert [h.id for h in store.handoffs(assignee_id=ann)] == [a.id, c.id]  # by arrival
    assert [h.id for h in store.handoffs(assignee_id=bo)] == [b.id]
    assert [h.id for h in store.handoffs(("waiting",))] == []
    for handoff in (c, a, b):  # closed in this order: newest_first follows the last change
        store.close(handoff.id, ann, "resolved")
    closed = store.handoffs(("closed",), newest_first=True)
    assert [h.id for h in closed] == [b.id, a.id, c.id]
    assert [h.id for h in store.handoffs(("closed",), newest_first=True, limit=2)] == [b.id, a.id]
    assert [h.id for h in store.handoffs(("closed",), limit=1)] == [a.id]
    assert store.handoffs() == []


def test_the_outbox_delivers_each_message_once_in_order(store: DeskStore) -> None:
    assert store.take_outgoing("rest:a") == []
    store.queue_outgoing("rest:a", "您好", "小王")
    store.queue_outgoing("rest:b", "for b", "Li")
    store.queue_outgoing("rest:a", "请问有什么可以帮您？", "")
    taken = store.take_outgoing("rest:a")
    assert [(m.text, m.sender_name) for m in taken] == [
        ("您好", "小王"),
        ("请问有什么可以帮您？", ""),
    ]
    assert taken[0].created_at < taken[1].created_at
    assert store.take_outgoing("rest:a") == []  # delivered: never twice
    assert [m.text for m in store.take_outgoing("rest:b")] == ["for b"]
    store.queue_outgoing("rest:a", "还在吗？", "小王")
    assert [m.text for m in store.take_outgoing("rest:a")] == ["还在吗？"]


def test_two_clients_polling_at_once_get_a_message_once(db_url: str) -> None:
    """Two requests of one REST client can overlap; a staff reply must not arrive twice."""
    stores = [DeskStore(db_url) for _ in range(4)]
    stores[0].ensure_schema()
    stores[0].queue_outgoing("rest:a", "once", "Ann")
    taken: list[str] = []
    barrier = threading.Barrier(len(stores))

    def take(desk: DeskStore) -> None:
        barrier.wait()
        taken.extend(message.text for message in desk.take_outgoing("rest:a"))

    threads = [threading.Thread(target=take, args=(desk,)) for desk in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert taken == ["once"]
    for desk in stores:
        desk.dispose()


def test_a_staff_action_is_audited_and_shows_as_a_change(store: DeskStore) -> None:
    ann = add(store, "ann")
    handoff = store.claim(store.request_handoff("web:a", "webchat", "zh", "asked", None).id, ann)
    store.record_staff_action(handoff.id, ann, "handoff.reply", "12 chars")
    latest = store.audit_log(1)[0]
    assert (latest.staff_id, latest.action, latest.target, latest.detail) == (
        ann,
        "handoff.reply",
        str(handoff.id),
        "12 chars",
    )
    assert store.changed_since(handoff.updated_at) == [handoff.id]
    with pytest.raises(HandoffNotFound):
        store.record_staff_action(handoff.id + 100, ann, "handoff.reply", "")
    assert store.audit_log(1)[0] == latest  # nothing recorded for an unknown conversation
