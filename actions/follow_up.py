"""Elliptic follow-ups (那电信日呢 · 后天呢 · and the next day?): answer like the last question."""

from __future__ import annotations

from actions import messages, theme_day, venue
from actions.common import Answer, DatabaseAction, Request
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
    if request.asked_date():
        if last_topic == theme_day.TOPIC:
            return theme_day.answer_theme_day(request)
        return answer_schedule(request)
    return Answer(messages.NOT_UNDERSTOOD_FOLLOW_UP[request.lang], last_topic or TOPIC)


class ActionAnswerFollowUp(DatabaseAction):
    action_name = "action_answer_follow_up"

    def answer(self, request: Request) -> Answer:
        return answer_follow_up(request)
