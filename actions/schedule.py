"""Schedule: when is an event (主论坛什么时候), what is on a day (9月10号有什么活动), the week."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.lang import Lang
from actions import messages
from actions.common import Answer, DatabaseAction, Request
from bot.db import EventDB, EventInfo, ThemeDayInfo

TOPIC = "schedule"


def describe_when(event: EventInfo, lang: Lang) -> str | None:
    """When an event happens, as precisely as the database knows — None if not announced."""
    if event.date_precision == "unknown" or event.start_date is None:
        return None
    end = event.end_date or event.start_date
    span = messages.format_span(event.start_date, end, lang)
    if event.date_precision == "window":
        return (
            f"{span}期间举行，各场具体日期尚未公布"
            if lang == "zh"
            else f"between {span}, exact dates not announced yet"
        )
    clock = messages.format_clock(event.start_time, event.end_time, event.part_of_day, lang)
    if not clock:
        return span
    return f"{span}{clock}" if lang == "zh" else f"{span}, {clock}"


def requested_event(request: Request, use_context: bool = False) -> EventInfo | None:
    """The event the visitor means: named in this message, or (use_context) earlier on.

    A forum topic is more specific than "the sub-forums", so it wins. The event answered
    last is kept in the `event` slot, which is what "在哪里?" after "主论坛什么时候?" needs.
    """
    topic = request.entity("forum_topic")
    if topic:
        sub_forum = request.db.sub_forum_by_topic(topic)
        if sub_forum:
            return sub_forum
    key = request.entity("event") or (request.tracker.get_slot("event") if use_context else None)
    return request.db.event(key) if key else None


def event_schedule(request: Request, event: EventInfo) -> Answer:
    lang = request.lang
    title = event.title(lang)
    slots = {"event": event.key}
    when = describe_when(event, lang)
    if when is None:
        subject = f"{title}的具体时间" if lang == "zh" else f"The date and time of the {title}"
        return Answer(messages.not_announced(subject, lang), TOPIC, slots)
    venue = request.db.venue_of_event(event.key)
    where = ""
    if venue:
        where = f"，地点：{venue.name(lang)}" if lang == "zh" else f", at the {venue.name(lang)}"
    text = f"{title}：{when}{where}。" if lang == "zh" else f"The {title}: {when}{where}."
    return Answer(messages.sentence([text, _unconfirmed_note(event, lang)], lang), TOPIC, slots)


def _unconfirmed_note(event: EventInfo, lang: Lang) -> str:
    note = event.note(lang)
    if not note:
        return ""
    return f"（{note}）" if lang == "zh" else f"({note})"


def events_on_day(request: Request, day: date) -> Answer:
    lang = request.lang
    day_text = messages.format_day(day, lang)
    slots = {"date": day.isoformat()}
    lines = day_listing(request.db, day, lang)
    if not lines:
        return Answer(_nothing_on(request, day_text), TOPIC, slots)
    head = f"{day_text}的活动：" if lang == "zh" else f"On {day_text}:"
    return Answer(head + "\n" + messages.bullet_lines(lines), TOPIC, slots)


def day_listing(db: EventDB, day: date, lang: Lang) -> list[str]:
    """One day's lines: its events, then its theme day, unconfirmed ones named with a hedge.

    The one place every listing by date, weekday or now/next reads, so that an item the
    database holds as unconfirmed (金融日 on 13 Sept) is never silently left out.
    """
    lines = [_day_line(event, lang) for event in without_grouped(db.events_on(day))]
    theme_day = db.theme_day_on(day)
    if theme_day:
        label = "主题日" if lang == "zh" else "Theme day"
        lines.append(messages.labelled(label, theme_day_label(theme_day, lang), lang))
    return lines


def theme_day_label(theme_day: ThemeDayInfo, lang: Lang) -> str:
    """A theme day's name; with a hedge when its date is only inferred, never as a fact."""
    name = theme_day.name(lang)
    if theme_day.date_confirmed:
        return name
    if lang == "zh":
        return f"预计为{name}（日期尚未正式公布）"
    return f"expected to be {name} (date not officially announced yet)"


def without_grouped(events: tuple[EventInfo, ...]) -> list[EventInfo]:
    """One line for a group (the sub-forums) rather than the group and each member."""
    listed = {event.key for event in events}
    return [event for event in events if event.parent_key not in listed]


def _day_line(event: EventInfo, lang: Lang) -> str:
    if event.date_precision == "window":
        clock = "具体日期待公布" if lang == "zh" else "exact date to be announced"
    else:
        clock = messages.format_clock(event.start_time, event.end_time, event.part_of_day, lang)
    if not event.confirmed:  # listed, but never as a fact
        hedge = "尚未正式确认" if lang == "zh" else "not officially announced yet"
        clock = ("，" if lang == "zh" else ", ").join(part for part in (clock, hedge) if part)
    if not clock:
        return event.title(lang)
    return f"{event.title(lang)}（{clock}）" if lang == "zh" else f"{event.title(lang)} ({clock})"


def _nothing_on(request: Request, day_text: str) -> str:
    lang = request.lang
    start, end = request.db.week_span()
    span = messages.format_span(start, end, lang)
    if lang == "zh":
        return f"{day_text}没有已公布的活动。2024年国家网络安全宣传周于{span}举行。"
    return f"No events have been announced for {day_text}. The 2024 week runs {span}."


def week_overview(request: Request) -> Answer:
    lang = request.lang
    start, end = request.db.week_span()
    # the edition's year: a database that also held other years' events lists this one's
    dated = request.db.top_level_events_between(date(start.year, 1, 1), date(end.year, 12, 31))
    lines = [
        messages.labelled(e.title(lang), describe_when(e, lang) or "", lang)
        for e in sorted(dated, key=lambda e: (e.start_date, e.key))
    ]
    head = (
        f"2024年国家网络安全宣传周于{messages.format_span(start, end, lang)}举行，主要安排："
        if lang == "zh"
        else f"The 2024 Cyber Security Week runs {messages.format_span(start, end, lang)}. Highlights:"
    )
    return Answer(head + "\n" + messages.bullet_lines(lines), TOPIC)


def answer_schedule(request: Request) -> Answer:
    event = requested_event(request)
    if event:
        return event_schedule(request, event)
    day = request.asked_date()
    if day:
        return events_on_day(request, day)
    theme_day = request.db.theme_day(request.entity("theme_day") or "")
    if theme_day:
        return theme_day_schedule(request, theme_day)
    return week_overview(request)


def theme_day_schedule(request: Request, theme_day: ThemeDayInfo) -> Answer:
    """What is on on a theme day ("金融日那天有什么活动"): its day's listing, which names the
    theme day with its hedge; a theme day without a date is not announced."""
    if theme_day.date is None:
        name = theme_day.name(request.lang)
        subject = f"{name}的日期" if request.lang == "zh" else f"The date of {name}"
        answer = messages.not_announced(subject, request.lang)
        return Answer(answer, TOPIC, {"theme_day": theme_day.key})
    listing = events_on_day(request, theme_day.date)
    return replace(listing, slots={**listing.slots, "theme_day": theme_day.key})


class ActionAnswerSchedule(DatabaseAction):
    action_name = "action_answer_schedule"

    def answer(self, request: Request) -> Answer:
        return answer_schedule(request)
