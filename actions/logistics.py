"""Practical information: tickets, opening hours, getting there, parking, registration, rooms,
accessibility, Wi-Fi, luggage, lost property (博览会要门票吗 · can I park there? · 能坐地铁去吗).

Answered from the `logistics` records, most specific first: the event asked about (named in
the message, else the one in the conversation), its group, its venue, then the whole week.
How to reach a venue is the venue's own `transport` field. Nothing announced: say so for the
very thing asked, with the next step (official channels, the help desk, a person).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rasa_sdk import Tracker

from actions import messages
from actions.common import Answer, DatabaseAction, Request
from actions.facts import answer_from_facts
from actions.fallback import with_staff_button
from actions.schedule import requested_event
from bot.db import EventInfo, VenueInfo
from bot.db.info import LOGISTICS_TOPIC_NAMES, LogisticsInfo, pick
from bot.lang import Lang

TOPIC_PREFIX = "logistics"
TRANSPORT = "transport"
TOPIC_OF_INTENT: dict[str, str] = {
    "ask_admission": "admission",
    "ask_opening_hours": "opening_hours",
    "ask_transport": TRANSPORT,
    "ask_parking": "parking",
    "ask_registration": "registration",
    "ask_room": "rooms",
    "ask_accessibility": "accessibility",
    "ask_wifi": "wifi",
    "ask_luggage": "luggage",
    "ask_lost_property": "lost_property",
}
# Signing up for the job fair is the recruitment fact's business (one place for each fact).
FACT_INSTEAD: dict[tuple[str, str], str] = {("registration", "recruitment"): "recruitment_apply"}

WHOLE_WEEK: dict[Lang, str] = {"zh": "宣传周各项活动", "en": "the week's events"}
ASK_A_PERSON: dict[Lang, str] = {
    "zh": "也可以点击“人工服务”，请工作人员为您解答。",
    "en": "Or tap “Talk to staff” to ask a member of staff.",
}


def topic_slot(topic: str) -> str:
    """The `last_topic` value, so that a follow-up knows what was asked ("logistics:wifi")."""
    return f"{TOPIC_PREFIX}:{topic}"


def topic_of(request: Request) -> str:
    """The topic asked: from the intent, else (a follow-up) from the last topic answered."""
    if request.intent in TOPIC_OF_INTENT:
        return TOPIC_OF_INTENT[request.intent]
    prefix, _, topic = str(request.tracker.get_slot("last_topic") or "").partition(":")
    if prefix == TOPIC_PREFIX and topic in LOGISTICS_TOPIC_NAMES:
        return topic
    raise ValueError(f"no logistics topic for intent {request.intent!r}")


# --- what the question is about ---------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a question is about: an event (and its venue), a venue, or neither (the week)."""

    event: EventInfo | None = None
    venue: VenueInfo | None = None

    def name(self, lang: Lang) -> str:
        if self.event:
            return self.event.title(lang) if lang == "zh" else f"the {self.event.title(lang)}"
        if self.venue:
            return self.venue.name(lang) if lang == "zh" else f"the {self.venue.name(lang)}"
        return WHOLE_WEEK[lang]

    def slots(self) -> dict[str, str]:
        if self.event:
            return {"event": self.event.key}
        return {"venue": self.venue.key} if self.venue else {}


def event_scope(request: Request, event: EventInfo) -> Scope:
    return Scope(event, request.db.venue_of_event(event.key))


def asked_scope(request: Request) -> Scope:
    """The event named in the message, else the venue named, else the conversation's."""
    event = requested_event(request)
    if event:
        return event_scope(request, event)
    venue_key = request.entity("venue")
    venue = request.db.venue(venue_key) if venue_key else None
    if venue:
        return Scope(venue=venue)
    return context_scope(request)


def context_scope(request: Request) -> Scope:
    """The event or venue talked about last ("能停车吗" after "蕉门公园在哪")."""
    tracker, db = request.tracker, request.db
    event_key, venue_key = tracker.get_slot("event"), tracker.get_slot("venue")
    event = db.event(event_key) if event_key else None
    venue = db.venue(venue_key) if venue_key else None
    # An event's answer sets its venue too; a venue set later on its own is the newer subject.
    if event and venue and event.venue_key != venue.key and _set_last(tracker, "venue", "event"):
        return Scope(venue=venue)
    if event:
        return event_scope(request, event)
    return Scope(venue=venue) if venue else Scope()


def _set_last(tracker: Tracker, slot: str, other: str) -> bool:
    """Whether `slot` was set more recently than `other` in the conversation."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "slot" and event.get("name") in (slot, other):
            return bool(event.get("name") == slot)
    return False


# --- what is known ----------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One place that may hold the answer: its announced text (None: not announced) and a
    note on what is not confirmed."""

    text: str | None
    note: str | None = None


def _found(record: LogisticsInfo | None, lang: Lang) -> Iterator[Finding]:
    if record:
        yield Finding(record.text(lang), record.note(lang))


def _venue_transport(venue: VenueInfo, lang: Lang) -> Finding:
    note = None if venue.confirmed else pick(lang, venue.note_zh, venue.note_en)
    return Finding(venue.transport(lang), note)


def findings(request: Request, topic: str, scope: Scope) -> Iterator[Finding]:
    """Specific to general; lazy, so that nothing past the first announced one is read."""
    db, lang = request.db, request.lang
    if scope.event:
        yield from _found(db.logistics(topic, event=scope.event.key), lang)
        if scope.event.parent_key:  # a sub-forum: what holds for all five
            yield from _found(db.logistics(topic, event=scope.event.parent_key), lang)
    if scope.venue and topic == TRANSPORT:
        yield _venue_transport(scope.venue, lang)
    elif scope.venue:
        yield from _found(db.logistics(topic, venue=scope.venue.key), lang)
    yield from _found(db.logistics(topic), lang)


# --- the answer -------------------------------------------------------------------------


def answer_logistics(request: Request) -> Answer:
    return answer_topic(request, topic_of(request))


def answer_topic(request: Request, topic: str) -> Answer:
    scope = asked_scope(request)
    fact_key = FACT_INSTEAD.get((topic, scope.event.key if scope.event else ""))
    if fact_key:
        answer = answer_from_facts(request, (fact_key,), topic_slot(topic))
        return Answer(text=answer.text, topic=answer.topic, slots=scope.slots())
    lang = request.lang
    head = _transport_head(scope, scope.venue, lang) if topic == TRANSPORT and scope.venue else ""
    first_note = None
    for finding in findings(request, topic, scope):
        if finding.text:
            label = LOGISTICS_TOPIC_NAMES[topic][lang]
            said = messages.labelled(label, finding.text, lang)
            text = "\n".join(part for part in (head, said, finding.note) if part)
            return Answer(text=text, topic=topic_slot(topic), slots=scope.slots())
        first_note = first_note or finding.note
    missing = messages.not_announced(_subject(topic, scope, lang), lang)
    text = "\n".join(part for part in (head, missing, first_note, ASK_A_PERSON[lang]) if part)
    return Answer(
        text=text,
        topic=topic_slot(topic),
        slots=scope.slots(),
        buttons=with_staff_button([], lang),
    )


def _subject(topic: str, scope: Scope, lang: Lang) -> str:
    """What is not announced, as specifically as asked ("网络安全博览会的门票和入场信息")."""
    if topic == TRANSPORT and scope.venue:
        venue = scope.venue.name(lang)
        return f"前往{venue}的交通方式" if lang == "zh" else f"Directions to the {venue}"
    name = LOGISTICS_TOPIC_NAMES[topic][lang]
    return f"{scope.name(lang)}的{name}" if lang == "zh" else f"{name} for {scope.name(lang)}"


def _transport_head(scope: Scope, venue: VenueInfo, lang: Lang) -> str:
    """Where the place is (what the database does know) before how to get there."""
    district = venue.district(lang)
    if lang == "zh":
        where = f"{venue.city(lang)}{district or ''}"
        if scope.event:
            return f"{scope.event.title(lang)}在{venue.name(lang)}（{where}）举行。"
        return f"{venue.name(lang)}位于{where}。"
    where = ", ".join(part for part in (district, venue.city(lang)) if part)
    if scope.event:
        return f"The {scope.event.title(lang)} is held at the {venue.name(lang)} ({where})."
    return f"The {venue.name(lang)} is in {where}."


class ActionAnswerLogistics(DatabaseAction):
    action_name = "action_answer_logistics"

    def answer(self, request: Request) -> Answer:
        return answer_logistics(request)
