"""The console's ask box: the bot's answer to a question staff type, and the records behind it.

Staff at the desk ask on a visitor's behalf, so the question must not become a conversation:
it runs through a copy of Rasa's message processor that shares the loaded model, the response
generator and the action server, but keeps its tracker in memory and never saves it. The input
channel is "desk", which the handoff action does not hand over (there is no visitor to queue).

The records are those the question's entities name (an event and its venue, a venue, a theme
day, a sub-forum topic, the events and theme day of a date), with their source and whether
they are confirmed, so staff see what the answer rests on.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore

from bot.db import EventDB
from bot.db.edits import FactEditor
from bot.db.info import EventInfo, ThemeDayInfo, VenueInfo
from bot.lang import Lang, language_of

CHANNEL = "desk"
MAX_QUESTION_CHARS = 500  # what the NLU reads


@dataclass(frozen=True)
class Record:
    kind: str
    key: str
    name: str
    source: str
    confirmed: bool
    note: str | None
    last_updated: dict[str, str] | None = None  # {when, who} of the latest console edit


@dataclass
class AskResult:
    replies: list[dict[str, Any]] = field(default_factory=list)
    intent: dict[str, Any] | None = None
    entities: list[dict[str, str]] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["records"] = [asdict(record) for record in self.records]
        return data


def _event(info: EventInfo, lang: Lang) -> Record:
    return Record("event", info.key, info.title(lang), info.source, info.confirmed, info.note(lang))


def _venue(info: VenueInfo, lang: Lang) -> Record:
    note = info.note_zh if lang == "zh" else info.note_en
    return Record("venue", info.key, info.name(lang), info.source, info.confirmed, note)


def _theme_day(info: ThemeDayInfo, lang: Lang) -> Record:
    note = info.note_zh if lang == "zh" else info.note_en
    return Record("theme_day", info.key, info.name(lang), info.source, info.date_confirmed, note)


def records_for(db: EventDB, entities: list[dict[str, str]], lang: Lang) -> list[Record]:
    """The database rows the entities name, each once, in the order they were named."""
    found: dict[tuple[str, str], Record] = {}

    def add(record: Record | None) -> None:
        if record is not None:
            found.setdefault((record.kind, record.key), record)

    for entity in entities:
        name, value = entity["entity"], entity["value"]
        if name == "event" and (event := db.event(value)):
            add(_event(event, lang))
            venue = db.venue_of_event(value)
            add(_venue(venue, lang) if venue else None)
        elif name == "venue" and (venue := db.venue(value)):
            add(_venue(venue, lang))
        elif name == "theme_day" and (day := db.theme_day(value)):
            add(_theme_day(day, lang))
        elif name == "forum_topic" and (forum := db.sub_forum_by_topic(value)):
            add(_event(forum, lang))
        elif name == "date":
            try:
                asked = dt.date.fromisoformat(value)
            except ValueError:
                continue
            for event in db.events_on(asked):
                add(_event(event, lang))
            day = db.theme_day_on(asked)
            add(_theme_day(day, lang) if day else None)
    return list(found.values())


async def ask_bot(agent: Any, question: str) -> AskResult:
    """The bot's reply to `question` in a conversation of its own that is never stored."""
    sandbox = copy.copy(agent.processor)  # shares the model; the stores below are its own
    sandbox.tracker_store = InMemoryTrackerStore(agent.domain)
    sandbox.lock_store = InMemoryLockStore()
    collector = CollectingOutputChannel()
    sender = f"desk-ask-{uuid.uuid4().hex}"
    text = question[:MAX_QUESTION_CHARS]
    await sandbox.handle_message(UserMessage(text, collector, sender, input_channel=CHANNEL))
    tracker = await sandbox.tracker_store.retrieve(sender)
    parse = tracker.latest_message.parse_data if tracker and tracker.latest_message else {}
    intent = parse.get("intent") or {}
    entities = [
        {"entity": str(e.get("entity")), "value": str(e.get("value"))}
        for e in parse.get("entities") or []
        if e.get("entity") and e.get("value") not in (None, "")
    ]
    replies = [
        {
            "text": message.get("text") or "",
            "buttons": [b.get("title", "") for b in message.get("buttons") or []],
        }
        for message in collector.messages
        if message.get("text")
    ]
    result = AskResult(replies=replies, entities=entities)
    if intent.get("name"):
        result.intent = {"name": intent["name"], "confidence": round(intent["confidence"], 3)}
    return result


def with_records(result: AskResult, db: EventDB, editor: FactEditor, question: str) -> AskResult:
    """The records behind the answer, each with its latest console edit (None: as seeded)."""
    records = records_for(db, result.entities, language_of(question))
    result.records = [replace(r, last_updated=_last_updated(editor, r)) for r in records]
    return result


def _last_updated(editor: FactEditor, record: Record) -> dict[str, str] | None:
    updated = editor.last_updated(record.kind, record.key)
    return {"when": updated.when.isoformat(), "who": updated.who} if updated else None
