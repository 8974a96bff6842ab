"""Venues: where an event is (开幕式在哪里举行), what is known of a venue (IFF会址怎么去)."""

from __future__ import annotations

from bot.lang import Lang
from actions import messages
from actions.common import Answer, DatabaseAction, Request
from actions.schedule import describe_when, requested_event
from bot.db import EventInfo, VenueInfo

TOPIC = "venue"
MAIN_EVENT = "opening_ceremony"  # "会场在哪里" with nothing named means the main venue


MISSING: dict[tuple[bool, bool], dict[Lang, str]] = {  # (address missing, transport missing)
    (True, True): {"zh": "详细地址和交通指引", "en": "The street address and directions"},
    (True, False): {"zh": "详细地址", "en": "The street address"},
    (False, True): {"zh": "交通指引", "en": "Directions"},
}


def describe_venue(venue: VenueInfo, lang: Lang, named: bool = False) -> str:
    """Where the venue is and what is known of getting there; `named`: the name was said.
    A venue that is not confirmed says so next to its address, with the note of what is not."""
    parts = [_location(venue, lang, named)]
    address = venue.address(lang)
    transport = venue.transport(lang)
    pending = "" if venue.confirmed else ("（待确认）" if lang == "zh" else " (not confirmed)")
    if address:
        label = ("地址" if lang == "zh" else "Address") + pending
        parts.append(messages.labelled(label, address, lang))
    if transport:
        label = ("交通" if lang == "zh" else "Getting there") + pending
        parts.append(messages.labelled(label, transport, lang))
    missing = MISSING.get((not address, not transport))
    if missing:
        parts.append(messages.not_announced(missing[lang], lang))
    note = venue.note_zh if lang == "zh" else venue.note_en
    if not venue.confirmed and note:
        parts.append(note)
    return "\n".join(parts)


def _location(venue: VenueInfo, lang: Lang, named: bool) -> str:
    district = venue.district(lang) or ""
    if lang == "zh":
        return f"{'该场馆' if named else venue.name(lang)}位于{venue.city(lang)}{district}。"
    place = ", ".join(part for part in (district, venue.city(lang)) if part)
    return f"It is in {place}." if named else f"{venue.name(lang)}, {place}."


def event_venue(request: Request, event: EventInfo) -> Answer:
    lang = request.lang
    title = event.title(lang)
    slots = {"event": event.key}
    venue = request.db.venue_of_event(event.key)
    if venue is None:
        subject = f"{title}的举办地点" if lang == "zh" else f"The venue of the {title}"
        return Answer(messages.not_announced(subject, lang), TOPIC, slots)
    slots["venue"] = venue.key
    when = describe_when(event, lang)
    if lang == "zh":
        head = f"{title}在{venue.name(lang)}举行" + (f"，时间：{when}。" if when else "。")
    else:
        head = f"The {title} takes place at the {venue.name(lang)}" + (
            f"; {when}." if when else "."
        )
    return Answer(head + "\n" + describe_venue(venue, lang, named=True), TOPIC, slots)


def answer_venue(request: Request) -> Answer:
    venue_key = request.entity("venue")
    venue = request.db.venue(venue_key) if venue_key else None
    if venue:
        return Answer(describe_venue(venue, request.lang), TOPIC, {"venue": venue.key})
    event = requested_event(request, use_context=True) or request.db.event(MAIN_EVENT)
    if event is None:
        subject = "会场信息" if request.lang == "zh" else "Venue information"
        return Answer(messages.not_announced(subject, request.lang), TOPIC)
    return event_venue(request, event)


class ActionAnswerVenue(DatabaseAction):
    action_name = "action_answer_venue"

    def answer(self, request: Request) -> Answer:
        return answer_venue(request)
