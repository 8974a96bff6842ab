"""Answering a question in the light of the conversation: one place for every capability.

`DatabaseAction.run` calls `answer_in_context` rather than a capability's `answer()`:

1. "那2023年呢" (a follow-up naming only a year): the previous question, asked again for that
   year (which may be the current edition's: "那今年呢").
2. Another edition's year (2022年开幕式在哪, where is the 2025 week): actions/editions.py —
   never the current edition's answer.
3. A bare when/where ("几号？", "在哪？", "where is it?"): about what the last answer was about
   — the theme day's date after a theme-day answer, the event's venue after an event — and not
   about a slot left over from an older question.
4. Otherwise the capability's own answer.

`answer_question` replays an earlier question (history.Question) through the same steps; the
follow-ups about the last answer (actions/about_last.py) use it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace

from actions import editions, history, messages
from actions.common import Answer, Request, parse_iso_date
from actions.fallback import with_staff_button
from actions.registry import answer_for, answers
from actions.schedule import without_grouped
from bot.lang import Lang, visitor_entities
from bot.nlu.text import fold

AnswerFunction = Callable[[Request], Answer]

WHEN_INTENT = "ask_schedule"
WHERE_INTENT = "ask_venue"
MAX_CHOICES = 6

# The words of a question that only asks when or where, with nothing to say what about.
_BARE_ZH = re.compile(
    r"几月几[号日]|几号|几时|哪一?天|哪几天|什么时候|啥时候|什么时间|啥时间|何时|几点钟?|具体|时间|日期|"
    r"在哪里|在哪儿|在哪|在边度|喺边度|边度|哪里|哪儿|哪个地方|什么地方|啥地方|地点|地址|位置|场地|"
    r"怎么走|怎么去|咋去|举行|举办|召开|开始|开|办|请问|问下|一下|还有|又|那么|那|它|这个|那个|"
    r"这|是|在|喺|去|到|的|了|吗|呢|啊|呀|嘛|吧|咧|嘅|呢个|咩|什么|啥"
)
_BARE_EN_WORDS = frozenset(
    "when where what whats what's when's where's which time date day days is it its it's that "
    "this the a held happening located location place venue at on in does do did start starts "
    "begin begins open opens take takes taking place will be and so ok okay then exactly how "
    "get there to i can again please pls about was hold holding going address".split()
)
_NOT_WORDS = re.compile(r"(?:'s|'re|[\s\W_])+")  # where's -> where
# In an elliptic follow-up ("那是几号呢", "and where?") the NLU may see `inform`: these words say
# which of the two it asks.
_ASKS_WHERE = re.compile(
    r"哪里|哪儿|在哪|边度|喺边|地点|地址|位置|场地|什么地方|啥地方|怎么走|怎么去|\bwhere\b"
)
_ASKS_WHEN = re.compile(r"几号|几时|哪一?天|哪几天|什么时候|啥时候|时间|日期|几点|\bwhen\b")


def answer_in_context(answer: AnswerFunction, request: Request) -> Answer:
    message = request.tracker.latest_message or {}
    if request.intent == history.FOLLOW_UP_INTENT and history.is_year_only(message):
        return _year_follow_up(request)
    edition = editions.edition_answer(request)
    if edition is not None:
        return edition
    when = _bare_kind(request.intent, message)
    if when is not None:
        in_context = _bare_question(request, when)
        if in_context is not None:
            return in_context
    return answer(request)


def _bare_kind(intent: str, message: dict[str, object]) -> bool | None:
    """True for a bare "when?", False for a bare "where?", None for anything else."""
    if not is_bare(message):
        return None
    if intent in (WHEN_INTENT, WHERE_INTENT):
        return intent == WHEN_INTENT
    if intent != history.FOLLOW_UP_INTENT:
        return None
    text = fold(str(message.get("text") or ""), lower=True)
    if _ASKS_WHERE.search(text):
        return False
    return True if _ASKS_WHEN.search(text) else None


def answer_question(
    question: history.Question, request: Request, lang: Lang | None = None
) -> Answer | None:
    """An earlier question answered again now (in `lang`), as it was asked; None when no
    capability answers its intent."""
    answer = answer_for(question.intent)
    if answer is None:
        return None
    replayed = replace(
        request,
        lang=lang or request.lang,
        tracker=question.tracker(request.tracker.sender_id),
    )
    return answer_in_context(answer, replayed)


def last_question(request: Request) -> history.Question | None:
    return history.last_question(request.tracker, answers())


def is_bare(message: dict[str, object]) -> bool:
    """A question that only asks when or where ("几号？", "在哪？", "where is it?"): no entity,
    and no word beyond asking when/where."""
    if visitor_entities(message.get("entities")):  # type: ignore[arg-type]
        return False
    text = fold(str(message.get("text") or ""), lower=True)
    if not text.strip():
        return False
    rest = _BARE_ZH.sub(" ", text)
    words = [w for w in _NOT_WORDS.split(rest) if w]
    return all(word in _BARE_EN_WORDS for word in words)


def _year_follow_up(request: Request) -> Answer:
    """A follow-up naming only a year ("那2023年呢"): the previous question for that year;
    with none, the edition itself."""
    question = last_question(request)
    years = history.current_question(request.tracker).values(history.YEAR)
    if question is not None:
        answered = answer_question(question.with_values(history.YEAR, years), request)
        if answered is not None:
            return answered
    about_edition = history.current_question(request.tracker).with_intent(
        editions.PAST_EDITIONS_INTENT, {}
    )
    about_edition = about_edition.with_values(history.YEAR, years)
    return answer_question(about_edition, request) or Answer(
        messages.NOT_UNDERSTOOD_FOLLOW_UP[request.lang], editions.TOPIC
    )


def _bare_question(request: Request, when: bool) -> Answer | None:
    """A bare when/where about what the last answer was about; None: answer it as usual."""
    context = history.last_answer_context(request.tracker)
    topic = context.get("last_topic")
    if topic == editions.TOPIC:  # "2022年开幕式在哪" -> "几号？": still 2022
        question = last_question(request)
        return answer_question(question, request) if question else None
    target = _when_target(request, context) if when else _where_target(request, context)
    if isinstance(target, Answer) or target is None:
        return target
    intent, entities = target
    question = history.current_question(request.tracker).with_intent(intent, entities)
    return answer_question(question, request)


Target = tuple[str, dict[str, str]]


def _when_target(request: Request, context: dict[str, object]) -> Target | Answer | None:
    for entity, intent in (
        ("theme_day", "ask_theme_day"),
        ("event", WHEN_INTENT),
        ("forum_topic", WHEN_INTENT),
    ):
        if context.get(entity):
            return intent, {entity: str(context[entity])}
    if context.get("venue"):
        events = _events_at(request, str(context["venue"]))
        return (WHEN_INTENT, {"event": events[0]}) if len(events) == 1 else None
    return {
        "recruitment": (WHEN_INTENT, {"event": "recruitment"}),
        "expo": ("ask_expo_dates", {}),
        "week": ("ask_week_dates", {}),
    }.get(str(context.get("last_topic")))


def _where_target(request: Request, context: dict[str, object]) -> Target | Answer | None:
    for entity in ("event", "forum_topic", "venue"):
        if context.get(entity):
            return WHERE_INTENT, {entity: str(context[entity])}
    if context.get("theme_day"):
        return _theme_day_place(request, str(context["theme_day"]))
    if context.get("date"):
        return _which_event_on(request, str(context["date"]))
    return {
        "recruitment": ("ask_recruitment_location", {}),
        "expo": (WHERE_INTENT, {"event": "expo"}),
    }.get(str(context.get("last_topic")))


def _events_at(request: Request, venue_key: str) -> list[str]:
    """Up to two: the caller only needs to know whether the venue has exactly one."""
    return [e.key for e in request.db.top_level_events(venue=venue_key, limit=2)]


def _theme_day_place(request: Request, key: str) -> Answer | None:
    """A theme day is a day, not a place: the database holds no venue for its activities."""
    theme_day = request.db.theme_day(key)
    if theme_day is None:
        return None
    name, lang = theme_day.name(request.lang), request.lang
    subject = f"{name}活动的具体地点" if lang == "zh" else f"The venue of the {name} activities"
    return Answer(
        messages.not_announced(subject, lang),
        "theme_day",
        {"theme_day": key},
        with_staff_button([], lang),
    )


def _which_event_on(request: Request, iso: str) -> Answer | Target | None:
    """A bare where ("在哪？") after a day's listing: which of that day's events?"""
    day = parse_iso_date(iso)
    if day is None:
        return None
    events = without_grouped(request.db.events_on(day))
    if len(events) == 1:
        return WHERE_INTENT, {"event": events[0].key}
    if not events:
        return None
    lang = request.lang
    buttons = [
        {
            "title": event.title(lang),
            "payload": f"/{WHERE_INTENT}{json.dumps({'event': event.key})}",
        }
        for event in events[:MAX_CHOICES]
    ]
    text = "您想问哪一项活动的地点？" if lang == "zh" else "Which event's venue would you like?"
    return Answer(text, "venue", {"date": iso}, with_staff_button(buttons, lang))
