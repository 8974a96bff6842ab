"""Elliptic follow-ups (那电信日呢 · 后天呢 · and the next day?): answer like the last question.

A follow-up that names nothing this assistant can use ("有wifi吗" taken for one) is never
answered with the previous topic: it gets a clarifying question with the likeliest topics.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from actions import history, messages, theme_day, venue
from actions.common import Answer, DatabaseAction, Request, parse_iso_date, shifted_date
from actions.fallback import TOPICS, likeliest_topics, with_staff_button
from actions.schedule import answer_schedule

TOPIC = "follow_up"


def answer_follow_up(request: Request) -> Answer:
    """Reuses the capability the visitor last asked about, with what this message names."""
    last_topic = request.tracker.get_slot("last_topic")
    if request.entity("theme_day"):
        return theme_day.answer_theme_day(request)
    if request.entity("venue"):
        return venue.answer_venue(request)
    if request.entity("event") or request.entity("forum_topic"):
        if last_topic == venue.TOPIC:
            return venue.answer_venue(request)
        return answer_schedule(request)
    request = with_offset_applied(request)
    if request.asked_date():
        if last_topic == theme_day.TOPIC:
            return theme_day.answer_theme_day(request)
        return answer_schedule(request)
    return clarify(request, last_topic)


def with_offset_applied(request: Request) -> Request:
    """A day offset ("and the day after?") counted from the day the last answer was about —
    the date it listed, the theme day's or the event's date — not from an older `date` slot."""
    offset = request.entity("day_offset")
    if not offset or request.entity("date"):
        return request
    base = day_of_last_answer(request)
    asked = shifted_date(base, offset) if base else None
    if asked is None:
        return request
    question = history.current_question(request.tracker).with_values("date", [asked.isoformat()])
    return replace(request, tracker=question.tracker(request.tracker.sender_id))


def day_of_last_answer(request: Request) -> date | None:
    context = history.last_answer_context(request.tracker)
    day = parse_iso_date(context.get("date"))
    if day:
        return day
    if context.get("theme_day"):
        found = request.db.theme_day(str(context["theme_day"]))
        if found and found.date and found.date_confirmed:
            return found.date
    if context.get("event"):
        event = request.db.event(str(context["event"]))
        if event and event.date_precision == "exact":
            return event.start_date
    return None


def clarify(request: Request, last_topic: str | None) -> Answer:
    """Nothing usable named: ask, offering the likeliest topics (never re-answer the last)."""
    lang = request.lang
    ranking = request.tracker.latest_message.get("intent_ranking") or []
    buttons = [{"title": TOPICS[t][lang], "payload": f"/{t}"} for t in likeliest_topics(ranking)]
    return Answer(
        messages.NOT_UNDERSTOOD_FOLLOW_UP[lang],
        last_topic or TOPIC,
        buttons=with_staff_button(buttons, lang),
    )


class ActionAnswerFollowUp(DatabaseAction):
    action_name = "action_answer_follow_up"

    def answer(self, request: Request) -> Answer:
        return answer_follow_up(request)
