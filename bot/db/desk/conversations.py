"""Reading Rasa's own SQL tracker store for the desk's reports (its `events` table).

Rasa owns the table and its ORM class (`SQLTrackerStore.SQLEvent`); this module only reads it,
through that class, so a Rasa upgrade that changes the table changes the class with it. The
reports need each user message and the actions that followed it, in order, per conversation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

SQLEvent = SQLTrackerStore.SQLEvent
# The event types a report reads: what the visitor said, what the bot did, handoffs.
REPORTED_TYPES = ("user", "action", "pause", "resume")
MAX_ROWS = 200_000  # a report over more than this reads the newest rows only


@dataclass(frozen=True)
class LoggedEvent:
    conversation_id: str
    type_name: str
    timestamp: float
    intent: str | None
    action: str | None
    text: str | None  # user messages only


def _text(type_name: str, data: str | None) -> str | None:
    if type_name != "user" or not data:
        return None
    try:
        return str(json.loads(data).get("text") or "")
    except ValueError:
        return None


class ConversationLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def events_since(self, since: float) -> Iterator[LoggedEvent]:
        """Events after `since` (Unix time), grouped by conversation, in order within each."""
        newest = (
            select(SQLEvent.id)
            .where(SQLEvent.timestamp >= since, SQLEvent.type_name.in_(REPORTED_TYPES))
            .order_by(SQLEvent.id.desc())
            .limit(MAX_ROWS)
            .subquery()
        )
        query = (
            select(
                SQLEvent.sender_id,
                SQLEvent.type_name,
                SQLEvent.timestamp,
                SQLEvent.intent_name,
                SQLEvent.action_name,
                SQLEvent.data,
            )
            .where(SQLEvent.id.in_(select(newest.c.id)))
            .order_by(SQLEvent.sender_id, SQLEvent.id)
        )
        with Session(self._engine, future=True) as session:
            for row in session.execute(query):
                yield LoggedEvent(
                    row.sender_id,
                    row.type_name,
                    float(row.timestamp or 0),
                    row.intent_name,
                    row.action_name,
                    _text(row.type_name, row.data),
                )
