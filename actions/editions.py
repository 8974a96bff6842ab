"""Other editions of the week: 2022年开幕式在哪, where was it last year, where is the 2025 week.

The database describes one edition in full (the `week` record: the current edition, 2024) and
earlier ones by one fact each (category "history", key `edition_<year>`: dates and host city).
A question about another year is therefore answered from that fact when it asks when or where
(the facts say when the week ran and where its opening ceremony was), with a plain word on what
the assistant does not know about that edition otherwise; a year the database holds nothing on
(a future one, or one before the earliest edition it holds) is "not announced / not in my
data", with a next step. Never the current edition's answer to another year's question.

Only the latest message's `year` entity counts (a `year` slot left from an earlier question
must not turn a later question about this year into one about 2022); "那2023年呢" re-asks the
previous question for 2023 (actions/context.py).
"""

from __future__ import annotations

from actions import messages
from actions.common import Answer, Request, parse_iso_date
from actions.facts import answer_from_facts, render_fact
from actions.fallback import with_staff_button
from actions.venue import event_venue
from bot.db import FactInfo
from bot.lang import Lang

TOPIC = "edition"
HISTORY_CATEGORY = "history"
EDITION_FACT_PREFIX = "edition_"
PAST_EDITIONS_INTENT = "ask_past_editions"
# What an edition fact answers: when the week ran, where it (its opening ceremony) was.
WHEN_WHERE_INTENTS = frozenset(
    {"ask_venue", "ask_schedule", "ask_week_dates", PAST_EDITIONS_INTENT, "inform"}
)
EDITION_FACT_EVENTS = frozenset({"opening_ceremony"})
MAIN_EVENT = "opening_ceremony"
# Entities that ask about something more specific than the edition's dates and host city.
SPECIFIC_ENTITIES = ("venue", "theme_day", "forum_topic", "date", "day_offset")


def current_edition_year(request: Request) -> int:
    """The year of the edition the database describes (its `week` record)."""
    return request.db.week_span()[0].year


def asked_years(request: Request, current: int) -> list[int]:
    """The years the latest message asks about: its `year` entities, and the year of an
    explicit date when that is not the current edition's (2022年9月5日)."""
    years: list[int] = []
    for entity in request.tracker.latest_message.get("entities") or []:
        name, value = entity.get("entity"), entity.get("value")
        year: int | None = None
        if name == "year" and str(value).isdigit():
            year = int(str(value))
        elif name == "date":
            day = parse_iso_date(value)
            year = day.year if day and day.year != current else None
        if year is not None and year not in years:
            years.append(year)
    return years


def names_a_year(request: Request) -> bool:
    """Whether the message could be about another edition at all (saves a query if not)."""
    entities = request.tracker.latest_message.get("entities") or []
    return any(entity.get("entity") in ("year", "date") for entity in entities)


def held_editions(request: Request) -> dict[int, FactInfo]:
    """year -> the fact describing that earlier edition."""
    held: dict[int, FactInfo] = {}
    for fact in request.db.facts_in(HISTORY_CATEGORY):
        suffix = fact.key.removeprefix(EDITION_FACT_PREFIX)
        if fact.key.startswith(EDITION_FACT_PREFIX) and suffix.isdigit():
            held[int(suffix)] = fact
    return held


def edition_answer(request: Request) -> Answer | None:
    """The answer for another edition, or None when the message is about the current one."""
    if not names_a_year(request):
        return None
    current = current_edition_year(request)
    years = asked_years(request, current)
    others = [year for year in years if year != current]
    if not others:
        if years and request.intent == PAST_EDITIONS_INTENT:
            return current_edition(request)  # "今年在哪办" worded like a question about the past
        return None
    held = held_editions(request)
    parts = [_about_year(request, year, current, held) for year in others]
    text = "\n".join(text for text, _ in parts)
    known = all(found for _, found in parts)
    if not known:
        text = messages.sentence([text, messages.NEXT_STEP[request.lang]], request.lang)
    buttons = [] if known else with_staff_button([], request.lang)
    return Answer(text, TOPIC, buttons=buttons)


def current_edition(request: Request) -> Answer:
    """When and where the current edition is: its dates and the opening ceremony's venue."""
    dates = answer_from_facts(request, ("week_dates",), TOPIC)
    opening = request.db.event(MAIN_EVENT)
    if opening is None:
        return dates
    venue = event_venue(request, opening)
    return Answer(f"{dates.text}\n{venue.text}", TOPIC, venue.slots)


def _about_year(
    request: Request, year: int, current: int, held: dict[int, FactInfo]
) -> tuple[str, bool]:
    """The text for one year, and whether the database held anything on it."""
    lang = request.lang
    fact = held.get(year)
    if year > current:
        return _not_announced(request, year, current), False
    if fact is None:
        return _not_held(year, current, sorted(held, reverse=True), lang), False
    known = render_fact(fact, lang)
    if _answered_by_edition_fact(request):
        return known, True
    if lang == "zh":
        return (
            f"我这里只有{current}年宣传周的详细信息（主题、主题日、论坛、博览会等）。"
            f"关于{year}年宣传周，我只知道：{known}",
            True,
        )
    return (
        f"I only have the details of the {current} week (theme, theme days, forums, expo and so "
        f"on). About the {year} week I only know this: {known}",
        True,
    )


def _answered_by_edition_fact(request: Request) -> bool:
    """A when/where question about the edition itself or its opening ceremony."""
    if request.intent not in WHEN_WHERE_INTENTS:
        return False
    if any(request.entity(name) for name in SPECIFIC_ENTITIES):
        return False
    event = request.entity("event")
    return event is None or event in EDITION_FACT_EVENTS


def _not_announced(request: Request, year: int, current: int) -> str:
    start, end = request.db.week_span()
    span = messages.format_span(start, end, request.lang)
    if request.lang == "zh":
        return (
            f"{year}年国家网络安全宣传周的时间、地点等安排目前尚未公布。"
            f"我这里提供的是{current}年宣传周（{span}）的信息。"
        )
    return (
        f"The {year} Cyber Security Week is not announced yet: no dates, host city or programme "
        f"have been published. I have the details of the {current} week ({span})."
    )


def _not_held(year: int, current: int, held: list[int], lang: Lang) -> str:
    if lang == "zh":
        earlier = (
            f"，以及往届（{'、'.join(f'{y}年' for y in held)}）的举办时间和地点" if held else ""
        )
        return f"我的资料中没有{year}年宣传周的信息。我这里有{current}年宣传周的详细信息{earlier}。"
    earlier = (
        f", and the dates and host cities of the {messages.join_list([str(y) for y in held], lang)}"
        " editions"
        if held
        else ""
    )
    return (
        f"I have no information on a {year} edition of the week. My data holds the details of "
        f"the {current} week{earlier}."
    )
