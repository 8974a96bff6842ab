"""Forums: which there are, one by topic, what the main forum releases."""

from __future__ import annotations

from bot.lang import Lang
from actions import messages
from actions.common import Answer, DatabaseAction, Request
from actions.facts import answer_from_facts
from actions.schedule import describe_when, event_schedule
from bot.db import EventInfo

TOPIC = "forum"
MAIN_FORUM = "main_forum"
SEMINARS = "seminars"


def forum_list(request: Request) -> Answer:
    lang = request.lang
    sub_forums = request.db.sub_forums()
    lines = [_forum_line(request.db.event(MAIN_FORUM), lang)]
    lines += [sub_forum.title(lang) for sub_forum in sub_forums]
    lines.append(_forum_line(request.db.event(SEMINARS), lang))
    head = (
        f"宣传周设主论坛和{len(sub_forums)}个分论坛："
        if lang == "zh"
        else f"The week has a main forum and {len(sub_forums)} sub-forums:"
    )
    window = describe_when(sub_forums[0], lang) if sub_forums else None
    tail = ""
    if window:
        tail = f"\n分论坛{window}。" if lang == "zh" else f"\nThe sub-forums run {window}."
    body = messages.bullet_lines([line for line in lines if line])
    return Answer(f"{head}\n{body}{tail}", TOPIC)


def _forum_line(event: EventInfo | None, lang: Lang) -> str:
    if event is None:
        return ""
    when = describe_when(event, lang)
    return messages.labelled(event.title(lang), when, lang) if when else event.title(lang)


def answer_forum(request: Request) -> Answer:
    if request.intent == "ask_forum_releases":
        return answer_from_facts(request, ("main_forum_releases",), TOPIC)
    topic = request.entity("forum_topic")
    sub_forum = request.db.sub_forum_by_topic(topic) if topic else None
    if sub_forum:
        return event_schedule(request, sub_forum)
    return forum_list(request)


class ActionAnswerForum(DatabaseAction):
    action_name = "action_answer_forum"

    def answer(self, request: Request) -> Answer:
        return answer_forum(request)
