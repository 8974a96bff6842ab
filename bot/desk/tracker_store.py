"""Rasa's SQL tracker store, telling the help desk when a paused conversation changes.

While staff have a conversation (Rasa's ConversationPaused), the bot runs no action for it, so
nothing else notices the visitor writing. Every save of a paused tracker updates the queue row
(`DeskStore.visitor_wrote`): its preview shows the latest message and the console's live view,
which polls the queue's change time, refreshes. Trackers that are not paused — nearly every
turn — cost nothing extra. Configured in endpoints.yml as
`type: bot.desk.tracker_store.DeskTrackerStore` with SQLTrackerStore's own settings.

Rasa builds the store's engine with SQLAlchemy 1.4's defaults, which cost a turn dearly: on
SQLite a new connection per query (NullPool) and a journal fsync per commit. It is rebuilt
with the same URL by `bot.db.engine.tracker_store_engine`.

Rasa's SQLTrackerStore also makes its blocking SQLAlchemy calls inside its coroutines, on the
event loop every visitor's turn shares: a save and a read held it ~22 ms a turn
(docs/benchmarks.md). They run on a thread of their own here (`off_the_loop`), and a save
writes the turn's events with one INSERT.

Rasa reads a conversation and counts its stored events with ORM queries whose subquery
SQLAlchemy re-analyses on every call (its cache key): 1.2 ms for the count and 0.9 ms for the
read against 0.14 ms each as Core statements built once (`_SessionQueries`, same SQL meaning).

A read is one statement on PostgreSQL (bot.db.engine.autocommit_engine: no pre-ping, BEGIN or
ROLLBACK around it), a new conversation's empty tracker is not saved (Rasa's `create_tracker`
saves it before the first event), and a save does not count the stored events of a tracker
this store has just read or created (it knows the number), so its INSERT is the whole save: a
turn's read and save are two statements, where there were thirteen.

A save that loses its connection (a dropped connection, a database away for under ~2 s) is
tried again for about 2 s before Rasa's fallback keeps the turn in memory only, where no
instance reads it: the next message would have lost its context. A longer outage (the
profile's launcher restarts a killed PostgreSQL after a 2 s pause) still ends in that fallback.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
from collections.abc import Coroutine, Iterable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.db.desk import shared_desk_store
from bot.db.engine import autocommit_engine, read_retrying_once, tracker_store_engine

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Pauses between the attempts of a save whose connection failed (1.75 s in all); the turn's
# reply waits meanwhile.
SAVE_RETRY_PAUSES_S = (0.25, 0.5, 1.0)
# Set on a tracker read or created here: how many of its events are stored (its latest
# session's). Rasa's lock store keeps anyone else from storing more before this turn's save.
STORED_EVENTS = "_cyberweek_stored_events"


class _SqlThread:
    """One thread with an event loop of its own, kept for the process's life, that runs the
    store's coroutines. `asyncio.run` on a pool thread per call made and closed a loop (and
    joined its executor) on every read and save: 8% of the Rasa process's CPU under load."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                name = "tracker-store-sql"
                threading.Thread(target=self._loop.run_forever, name=name, daemon=True).start()
            return self._loop


_SQL_THREAD = _SqlThread()


async def off_the_loop(work: Coroutine[Any, Any, T]) -> T:
    """Runs `work`, a coroutine that blocks on SQL, on the store's own thread and loop.

    Shielded: Sanic cancels a turn whose client hangs up, and a save must still happen (the
    next turn reads the conversation back from it)."""
    done = asyncio.run_coroutine_threadsafe(work, _SQL_THREAD.loop())
    return await asyncio.shield(asyncio.wrap_future(done))


class _SessionQueries:
    """Rasa's `SQLTrackerStore._event_query` as Core statements with the sender as a bound
    parameter: a conversation's events (all, or since its latest SessionStarted) and how many
    of the latter are stored."""

    def __init__(self, events: sa.Table) -> None:
        of_sender = events.c.sender_id == sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(of_sender, events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        in_latest_session = sa.or_(events.c.timestamp >= session_start, session_start.is_(None))
        self.all_sessions = sa.select(events.c.data).where(of_sender).order_by(events.c.id)
        self.latest_session = self.all_sessions.where(in_latest_session)
        self.count_latest_session = (
            sa.select(sa.func.count()).select_from(events).where(of_sender, in_latest_session)
        )


class DeskTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # creates the tables with Rasa's engine
        self.engine.dispose()
        self.engine = tracker_store_engine(self.engine.url)
        self._single_statements = autocommit_engine(self.engine)  # one-statement reads and saves
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.desk = shared_desk_store()  # the database DATABASE_URL names
        self._queries = _SessionQueries(self.SQLEvent.__table__)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        return await off_the_loop(self._read_tracker(sender_id, fetch_events_from_all_sessions))

    async def _read_tracker(
        self, sender_id: str, all_sessions: bool
    ) -> DialogueStateTracker | None:
        """Rasa's `SQLTrackerStore._retrieve` with the statements built once."""
        query = self._queries.all_sessions if all_sessions else self._queries.latest_session
        rows = read_retrying_once(
            self._single_statements, lambda db: db.execute(query, {"sender_id": sender_id}).all()
        )
        events = [json.loads(data) for (data,) in rows]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not all_sessions:  # what count_latest_session would answer now
            tracker.__dict__[STORED_EVENTS] = len(events)
        return tracker

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        """Rasa's: the tracker's events after as many as `session` counts stored."""
        stored = session.execute(
            self._queries.count_latest_session, {"sender_id": tracker.sender_id}
        ).scalar_one()
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)  # on Rasa's loop: a broker's connection lives there
        if not tracker.events:  # a new conversation's empty tracker: nothing to store,
            # and none of its events are (Rasa's create_tracker saves it, through the
            # FailSafeTrackerStore wrapper, so this is where a new tracker is seen)
            tracker.__dict__[STORED_EVENTS] = 0
            return
        await self._insert_with_retries(tracker)
        if not tracker.is_paused():
            return
        latest = tracker.latest_message.text if tracker.latest_message else None
        try:
            await asyncio.to_thread(self.desk.visitor_wrote, tracker.sender_id, latest)
        except Exception:  # the transcript is saved; only the live view misses this change
            logger.exception("could not tell the desk about %s", tracker.sender_id)

    async def _insert_with_retries(self, tracker: DialogueStateTracker) -> None:
        """Idempotent to retry: each attempt inserts only the events not stored yet."""
        for pause_s in (*SAVE_RETRY_PAUSES_S, None):
            try:
                return await off_the_loop(self._insert_new_events(tracker))
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
                if pause_s is None:
                    raise
                logger.warning(
                    "saving %s failed (%s); again in %s s", tracker.sender_id, error, pause_s
                )
                await asyncio.sleep(pause_s)

    async def _insert_new_events(self, tracker: DialogueStateTracker) -> None:
        """Rasa's `SQLTrackerStore.save` with one INSERT for the turn's new events instead of
        an ORM object and a flush per event (same rows; a save took 9 ms, now 4 ms).

        A tracker this store has just read or created knows how many of its events are stored
        (once: a retry or a later save counts again): its INSERT is the save's only statement,
        atomic on its own (autocommit on PostgreSQL). Otherwise the stored events are counted
        first, in the INSERT's transaction, as Rasa does."""
        insert = sa.insert(self.SQLEvent.__table__)
        stored = tracker.__dict__.pop(STORED_EVENTS, None)
        if stored is not None:
            rows = _rows(tracker, itertools.islice(tracker.events, stored, len(tracker.events)))
            if rows:
                with self._single_statements.begin() as connection:
                    connection.execute(insert, rows)
            return
        with self.session_scope() as session:
            rows = _rows(tracker, self._additional_events(session, tracker))
            if rows:
                session.execute(insert, rows)
                session.commit()


def _rows(tracker: DialogueStateTracker, events: Iterable[Event]) -> list[dict[str, Any]]:
    return [_event_row(tracker.sender_id, event) for event in events]


def _event_row(sender_id: str, event: Event) -> dict[str, Any]:
    """The row Rasa's SQLTrackerStore stores for `event` (its `events` table's columns)."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }
