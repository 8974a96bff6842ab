"""Now and next: what is on right now (现在有什么), what comes next (接下来), whether something
has started or ended (开幕式开始了吗), and how many days are left (离金融日还有几天).

Every answer compares `bot.clock.now()` with the times the database holds, only as precisely as
it holds them: an exact time, a half-day (上午), a day, a span of days with the day itself not
announced (the sub-forums), or nothing. Where the database does not know, the answer says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable, Literal, Union

from actions import messages
from actions.common import Answer, DatabaseAction, Request
from actions.fallback import with_staff_button
from actions.schedule import day_listing, describe_when, requested_event, without_grouped
from actions.schedule import theme_day_label
from actions.theme_day import TOPIC as THEME_DAY_TOPIC
from bot import clock
from bot.db import EventDB, EventInfo, ThemeDayInfo
from bot.lang import Lang

TOPIC = "now_next"

# Where an event stands at a moment, from the most precise time the database holds for it.
Status = Literal[
    "undated",  # no date announced
    "upcoming",  # starts on a later day
    "later_today",  # today, at a time (or half-day) still ahead
    "on_now",  # today, between its start and end time
    "started",  # today, start time passed, end time not announced
    "this_part",  # today, in the current half-day, exact time not announced
    "today_untimed",  # today, time not announced
    "running",  # a several-day event, today within it, daily hours not announced
    "window",  # held on some day(s) of a span that includes today, which not announced
    "earlier_today",  # today, already over
    "over",  # ended on an earlier day
]
# Kinds whose date is a start (an opening, a campaign), not an event that ends that day.
OPEN_ENDED_KINDS = frozenset({"publicity"})
ONGOING: tuple[Status, ...] = ("on_now", "started")
TODAY_UNTIMED: tuple[Status, ...] = ("running", "this_part", "today_untimed")
# Events without a date named under a listing, at most (the seed has 3).
MAX_UNDATED_NAMED = 10

# The hours a half-day covers, for comparing "上午" with the clock.
HALF_DAYS: dict[str, tuple[time, time]] = {
    "morning": (time(0, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(18, 0)),
    "evening": (time(18, 0), time.max),
}
THIS_HALF_DAY = {
    "morning": {"zh": "今天上午", "en": "this morning"},
    "afternoon": {"zh": "今天下午", "en": "this afternoon"},
    "evening": {"zh": "今天晚上", "en": "this evening"},
}
# A status question that names the week itself ("网安周开始了吗") is about the week, not about
# the event the conversation was last on; the NLU has no entity for the week.
WEEK_WORDS = re.compile(
    r"宣[传傳][周週]|[网網]安[周週]|[网網][络絡路]安全[周週]|cyber\s*(?:security\s*)?week|"
    r"(?:publicity|awareness|security)\s+week|\bthe\s+week\b",
    re.IGNORECASE,
)

Subject = Union[EventInfo, ThemeDayInfo]


# --- where things stand ----------------------------------------------------------------------


def event_status(event: EventInfo, moment: datetime) -> Status:
    if not event.date_known or event.start_date is None:
        return "undated"
    today = moment.date()
    end = event.end_date or event.start_date
    if today < event.start_date:
        return "upcoming"
    if today > end:
        return "over"
    if event.date_precision == "window":
        return "window"
    if end != event.start_date:
        return "running"
    return _status_within_day(event, moment.time())


def _status_within_day(event: EventInfo, now: time) -> Status:
    if event.start_time:
        if now < event.start_time:
            return "later_today"
        if event.end_time is None:
            return "started"
        return "on_now" if now < event.end_time else "earlier_today"
    hours = HALF_DAYS.get(event.part_of_day or "")
    if hours is None:
        return "today_untimed"
    if now < hours[0]:
        return "later_today"
    return "earlier_today" if now >= hours[1] else "this_part"


def count_days(days: int, lang: Lang) -> str:
    if lang == "zh":
        return f"{days}天"
    return f"{days} day" if days == 1 else f"{days} days"


def days_until(day: date, today: date, lang: Lang) -> str:
    """明天 / in 3 days — how far ahead a later day is."""
    days = (day - today).days
    if days == 1:
        return "明天" if lang == "zh" else "tomorrow"
    if days == 2 and lang == "zh":
        return "后天"
    return f"还有{days}天" if lang == "zh" else f"in {days} days"


def zh_ahead_clause(ahead: str) -> str:
    """ "，也就是明天" reads right after a date; "，还有3天" already does."""
    return f"也就是{ahead}" if ahead in ("明天", "后天") else ahead


def days_ago(day: date, today: date, lang: Lang) -> str:
    days = (today - day).days
    if days == 1:
        return "昨天" if lang == "zh" else "yesterday"
    return f"{days}天前" if lang == "zh" else f"{days} days ago"


def english_subject(title: str) -> str:
    """ "the Opening Ceremony …", but "The five sub-forums" and "Guangzhou's first …" as they are."""
    first = title.split(" ", 1)[0]
    if first.lower() == "the":
        return "the" + title[3:]
    return title if first.endswith("'s") else f"the {title}"


# Said when the database holds no note of its own on what is not announced.
TIME_NOT_ANNOUNCED = {"zh": "具体时间尚未公布。", "en": "The exact time has not been announced."}
DAY_NOT_ANNOUNCED = {"zh": "具体日期尚未公布。", "en": "The exact day has not been announced."}


def _note(event: EventInfo, status: Status, lang: Lang) -> str:
    """What is not confirmed about the event: the database's note, else a plain hedge where
    the status rests on a time or day that is not announced."""
    note = event.note(lang)
    if note:
        return note
    if status == "window":
        return DAY_NOT_ANNOUNCED[lang]
    if status in ("this_part", "today_untimed", "running"):
        return TIME_NOT_ANNOUNCED[lang]
    return ""


# --- one subject: has it started, how long until it ------------------------------------------


@dataclass(frozen=True)
class _Told:
    """What the sentences about one event need: its names, its time, today."""

    event: EventInfo
    today: date
    lang: Lang

    @property
    def title(self) -> str:
        title = self.event.title(self.lang)
        return title if self.lang == "zh" else english_subject(title)

    @property
    def title_(self) -> str:
        """The title at the start of a sentence."""
        return self.title[:1].upper() + self.title[1:]

    @property
    def when(self) -> str:
        event = self.event
        if event.date_precision == "window" and event.start_date:
            span = messages.format_span(event.start_date, self.end, self.lang)
            return self.pick(f"{span}期间举行", f"held between {span}")
        return describe_when(event, self.lang) or ""

    @property
    def clock(self) -> str:
        event = self.event
        return messages.format_clock(event.start_time, event.end_time, event.part_of_day, self.lang)

    @property
    def end(self) -> date:
        return self.event.end_date or self.event.start_date or self.today

    def pick(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en


def _upcoming(t: _Told) -> str:
    ahead = days_until(t.event.start_date or t.today, t.today, t.lang)
    return t.pick(
        f"{t.title}还没有开始：{t.when}，{zh_ahead_clause(ahead)}。",
        f"{t.title_} has not started yet: {t.when} ({ahead}).",
    )


def _later_today(t: _Told) -> str:
    return t.pick(
        f"{t.title}在今天{t.clock}，还没有开始。",
        f"{t.title_} is today, {t.clock}; it has not started yet.",
    )


def _on_now(t: _Told) -> str:
    return t.pick(f"{t.title}正在进行（今天{t.clock}）。", f"{t.title_} is on now ({t.clock}).")


def _started(t: _Told) -> str:
    return t.pick(
        f"{t.title}已于今天{t.clock}开始，结束时间尚未公布。",
        f"{t.title_} started today at {t.clock}; its end time has not been announced.",
    )


def _this_part(t: _Told) -> str:
    part = THIS_HALF_DAY[t.event.part_of_day or "morning"][t.lang]
    return t.pick(
        f"{t.title}在{part}举行，无法确定此刻是否正在进行。",
        f"{t.title_} is {part}; I can't say whether it is under way at this very moment.",
    )


def _today_untimed(t: _Told) -> str:
    day = messages.format_day(t.today, t.lang)
    return t.pick(f"{t.title}在今天{day}举行。", f"{t.title_} is on today ({day}).")


def _running(t: _Told) -> str:
    span = messages.format_span(t.event.start_date or t.today, t.end, t.lang)
    left = (t.end - t.today).days + 1
    if t.end == t.today:
        rest = t.pick("今天是最后一天", "today is the last day")
    else:
        rest = t.pick(f"包括今天还有{left}天", f"{count_days(left, t.lang)} left including today")
    return t.pick(
        f"{t.title}正在举办期间（{span}），{rest}。", f"{t.title_} is on: it runs {span}, {rest}."
    )


def _window(t: _Told) -> str:
    return t.pick(
        f"{t.title}在{t.when}，今天在这段时间内，但无法确定今天是否有。",
        f"{t.title_}: {t.when}; today is within that span, but I can't say whether it is "
        "on today.",
    )


def _earlier_today(t: _Told) -> str:
    return t.pick(
        f"{t.title}已在今天{t.clock}举行，已经结束。",
        f"{t.title_} was earlier today ({t.clock}); it is over.",
    )


def _over(t: _Told) -> str:
    ago = days_ago(t.end, t.today, t.lang)
    if t.event.kind in OPEN_ENDED_KINDS:  # the theme park opened on its day, it is not "over"
        return t.pick(
            f"{t.title}：{t.when}，这个日期已经过去了（{ago}）。",
            f"{t.title_}: {t.when} — that date has passed ({ago}).",
        )
    return t.pick(f"{t.title}已经结束：{t.when}，{ago}。", f"{t.title_} is over: {t.when} ({ago}).")


STATUS_SENTENCES: dict[Status, Callable[[_Told], str]] = {
    "upcoming": _upcoming,
    "later_today": _later_today,
    "on_now": _on_now,
    "started": _started,
    "this_part": _this_part,
    "today_untimed": _today_untimed,
    "running": _running,
    "window": _window,
    "earlier_today": _earlier_today,
    "over": _over,
}


def event_status_text(event: EventInfo, moment: datetime, lang: Lang) -> str:
    """Where an event stands now, honest about the time the database does not hold."""
    status = event_status(event, moment)
    told = _Told(event, moment.date(), lang)
    if status == "undated":
        subject = told.pick(f"{told.title}的日期和时间", f"The date and time of {told.title}")
        return messages.not_announced(subject, lang)
    return messages.sentence([STATUS_SENTENCES[status](told), _note(event, status, lang)], lang)


def theme_day_status_text(theme_day: ThemeDayInfo, db: EventDB, today: date, lang: Lang) -> str:
    """A theme day against today; an inferred date is neither stated nor counted down to."""
    name = theme_day.name(lang)
    if theme_day.date is None or not theme_day.date_confirmed:
        subject = f"2024年{name}的日期" if lang == "zh" else f"The 2024 date of {name}"
        return messages.sentence(
            [messages.not_announced(subject, lang), week_status_text(db, today, lang)], lang
        )
    day = messages.format_day(theme_day.date, lang)
    if theme_day.date == today:
        return f"今天{day}就是{name}。" if lang == "zh" else f"Today ({day}) is {name}."
    if theme_day.date > today:
        ahead = days_until(theme_day.date, today, lang)
        if lang == "zh":
            return f"{name}在{day}，{zh_ahead_clause(ahead)}。"
        return f"{name} is on {day} ({ahead})."
    ago = days_ago(theme_day.date, today, lang)
    return (
        f"{name}是{day}，已经过去了（{ago}）。"
        if lang == "zh"
        else f"{name} was on {day} — that was {ago}."
    )


def week_status_text(db: EventDB, today: date, lang: Lang) -> str:
    """Whether the week has started, which day of it today is, how many days are left."""
    start, end = db.week_span()
    span = messages.format_span(start, end, lang)
    zh = lang == "zh"
    if today < start:
        ahead = days_until(start, today, lang)
        return (
            f"宣传周还没有开始：2024年国家网络安全宣传周于{span}举行，{ahead}正式开始。"
            if zh
            else f"The week has not started yet: the 2024 Cyber Security Week runs {span}; "
            f"it starts {ahead}."
        )
    if today > end:
        ago = days_ago(end, today, lang)
        return (
            f"2024年国家网络安全宣传周（{span}）已经结束（{ago}）。"
            if zh
            else f"The 2024 Cyber Security Week ({span}) is over; it ended {ago}."
        )
    day_number, total = (today - start).days + 1, (end - start).days + 1
    left = (end - today).days + 1
    if zh:
        rest = "今天是最后一天" if left == 1 else f"包括今天还有{left}天"
        return f"宣传周正在进行（{span}）：今天是第{day_number}天（共{total}天），{rest}。"
    rest = (
        "today is the last day" if left == 1 else f"{count_days(left, lang)} left including today"
    )
    return f"The week is on ({span}): today is day {day_number} of {total}, {rest}."


def asked_subject(request: Request) -> Subject | None:
    """What "has it started / how many days until" is about: a name in this message, else
    (for an elliptic "开始了吗?") the event or theme day the conversation is on — unless the
    message names the week."""
    event = requested_event(request)
    if event:
        return event
    theme_key = request.entity("theme_day")
    if theme_key:
        return request.db.theme_day(theme_key)
    if WEEK_WORDS.search(request.tracker.latest_message.get("text") or ""):
        return None
    theme_slot = request.tracker.get_slot("theme_day")
    if theme_slot and request.tracker.get_slot("last_topic") == THEME_DAY_TOPIC:
        return request.db.theme_day(theme_slot)
    return requested_event(request, use_context=True)


def subject_status(request: Request, moment: datetime) -> Answer:
    """ask_event_status and ask_countdown: the same facts, days counted either way."""
    lang, today = request.lang, moment.date()
    subject = asked_subject(request)
    if isinstance(subject, EventInfo):
        text = event_status_text(subject, moment, lang)
        unknown = event_status(subject, moment) in (
            "undated",
            "window",
            "this_part",
            "today_untimed",
        )
        return _answer(text, {"event": subject.key}, lang, offer_staff=unknown)
    if isinstance(subject, ThemeDayInfo):
        text = theme_day_status_text(subject, request.db, today, lang)
        return _answer(
            text, {"theme_day": subject.key}, lang, offer_staff=not subject.date_confirmed
        )
    return _answer(week_status_text(request.db, today, lang), {}, lang)


# --- listings: now, next -----------------------------------------------------------------------


def todays_events(db: EventDB, moment: datetime) -> list[tuple[EventInfo, Status]]:
    events = without_grouped(db.events_on(moment.date()))
    return [(event, event_status(event, moment)) for event in events]


def _now_line(event: EventInfo, status: Status, lang: Lang) -> str:
    """One event in a now/next listing, with how precisely its time is known."""
    title = event.title(lang)
    clock_text = messages.format_clock(event.start_time, event.end_time, event.part_of_day, lang)
    zh = lang == "zh"
    if status in ("on_now", "later_today") and clock_text:
        detail = clock_text
    elif status == "started":
        detail = (
            f"{clock_text}开始，结束时间尚未公布"
            if zh
            else f"since {clock_text}, end not announced"
        )
    elif status == "this_part":
        part = THIS_HALF_DAY[event.part_of_day or "morning"][lang]
        detail = f"{part}，具体时间尚未公布" if zh else f"{part}, exact time not announced"
    elif status == "running":
        span = messages.format_span(event.start_date, event.end_date or event.start_date, lang)
        detail = f"{span}，每日具体时间尚未公布" if zh else f"{span}, daily hours not announced"
    elif status == "window":
        span = messages.format_span(event.start_date, event.end_date or event.start_date, lang)
        detail = (
            f"{span}期间举行，具体日期尚未公布"
            if zh
            else f"some day(s) between {span}, dates not announced"
        )
    else:
        detail = "具体时间尚未公布" if zh else "exact time not announced"
    if not event.confirmed:
        detail += "，尚未正式确认" if zh else ", not officially announced yet"
    return f"{title}（{detail}）" if zh else f"{title} ({detail})"


def _section(head: str, lines: list[str]) -> str:
    return f"{head}\n{messages.bullet_lines(lines)}" if lines else ""


def _today_theme_day(db: EventDB, today: date, lang: Lang) -> str:
    theme_day = db.theme_day_on(today)
    if theme_day is None:
        return ""
    label = theme_day_label(theme_day, lang)  # "预计为金融日（…尚未正式公布）" when unconfirmed
    if lang == "zh":
        return f"今天{label}。" if not theme_day.date_confirmed else f"今天是{label}。"
    return f"Today is {label}."


def _undated_line(db: EventDB, lang: Lang) -> str:
    """Events with no date at all: named, so that a listing never hides them."""
    found = db.undated_top_level_events(limit=MAX_UNDATED_NAMED + 1)
    if not found:
        return ""
    undated = [e.title(lang) for e in found[:MAX_UNDATED_NAMED]]
    more = len(found) > MAX_UNDATED_NAMED  # named up to a point, the cut said
    if more and lang == "en":
        undated.append("others")
    names = messages.join_list(undated, lang) + ("等" if more and lang == "zh" else "")
    if lang == "zh":
        return f"日期尚未公布的活动：{names}。"
    return f"Dates not announced yet: {names}."


def _heads(lang: Lang) -> dict[str, str]:
    if lang == "zh":
        return {
            "on_now": "正在进行：",
            "untimed": "今天举行，但具体时间尚未公布：",
            "window": "可能在今天（只公布了日期范围）：",
            "later": "今天稍后：",
        }
    return {
        "on_now": "On now:",
        "untimed": "Today, exact time not announced:",
        "window": "Possibly today (only a span of days has been announced):",
        "later": "Later today:",
    }


def whats_on_now(request: Request, moment: datetime) -> Answer:
    lang, db, today = request.lang, request.db, moment.date()
    heads = _heads(lang)
    events = todays_events(db, moment)

    def lines(statuses: tuple[Status, ...]) -> list[str]:
        return [_now_line(e, s, lang) for e, s in events if s in statuses]

    sections = [
        _section(heads["on_now"], lines(ONGOING)),
        _section(heads["untimed"], lines(TODAY_UNTIMED)),
        _section(heads["window"], lines(("window",))),
        _section(heads["later"], lines(("later_today",))),
    ]
    theme_day = _today_theme_day(db, today, lang)
    start, end = db.week_span()
    outside_week = not start <= today <= end
    head = _clock_head(moment, lang)
    if not any(sections) and not theme_day:
        parts = [head, _nothing_now(lang), week_status_text(db, today, lang)]
        if today < end:
            parts.append(_next_day_text(db, today, lang))
        return _answer("\n".join(p for p in parts if p), {}, lang)
    week_line = week_status_text(db, today, lang) if outside_week else ""
    body = [head, *[s for s in sections if s], theme_day, week_line, _undated_line(db, lang)]
    return _answer("\n".join(p for p in body if p), {}, lang)


def whats_next(request: Request, moment: datetime) -> Answer:
    lang, db, today = request.lang, request.db, moment.date()
    heads = _heads(lang)
    events = todays_events(db, moment)
    later = [_now_line(e, s, lang) for e, s in events if s == "later_today"]
    untimed = [_now_line(e, s, lang) for e, s in events if s in ("this_part", "today_untimed")]
    parts = [
        _clock_head(moment, lang),
        _section(heads["later"], later),
        _section(heads["untimed"], untimed),
    ]
    if not later:
        next_day = _next_day_text(db, today, lang)
        parts.append(next_day or week_status_text(db, today, lang))
    parts.append(_undated_line(db, lang))
    return _answer("\n".join(p for p in parts if p), {}, lang)


def next_day_with_items(db: EventDB, today: date) -> date | None:
    """The first day after today that a listing has anything for.

    Tomorrow if anything spans it; otherwise the nearest later start or theme day (an event
    that started earlier and does not reach tomorrow is over, so nothing else can qualify).
    """
    tomorrow = today + timedelta(days=1)
    if db.any_event_on(tomorrow) or db.theme_day_on(tomorrow):
        return tomorrow
    # a later day qualifies by the event that starts on it or the theme day dated it
    later = [db.first_start_after(tomorrow)]
    later += [t.date for t in db.theme_days() if t.date and t.date > tomorrow]
    return min((day for day in later if day), default=None)


def _next_day_text(db: EventDB, today: date, lang: Lang) -> str:
    day = next_day_with_items(db, today)
    if day is None:
        return ""
    lines = day_listing(db, day, lang)
    when = messages.format_day(day, lang)
    ahead = days_until(day, today, lang)
    if lang == "zh":
        ahead = ahead if ahead in ("明天", "后天") else f"{(day - today).days}天后"
        head = f"接下来：{ahead}，{when}"
    else:
        head = f"Next, on {when} ({ahead}):"
    return _section(head, lines)


def _clock_head(moment: datetime, lang: Lang) -> str:
    day = messages.format_day(moment.date(), lang)
    return f"现在是{day}{moment:%H:%M}。" if lang == "zh" else f"It is now {day}, {moment:%H:%M}."


def _nothing_now(lang: Lang) -> str:
    if lang == "zh":
        return "现在没有已公布的活动在进行。"
    return "Nothing that has been announced is on right now."


def _answer(text: str, slots: dict[str, str], lang: Lang, offer_staff: bool = False) -> Answer:
    """Where a time is not announced, a next step: official channels, or a person (the
    handoff button)."""
    if not offer_staff:
        return Answer(text, TOPIC, slots)
    if messages.NEXT_STEP[lang] not in text:  # not_announced() may have given it already
        text = messages.sentence([text, messages.NEXT_STEP[lang]], lang)
    return Answer(text, TOPIC, slots, with_staff_button([], lang))


def answer_now_next(request: Request) -> Answer:
    moment = clock.now()
    if request.intent in ("ask_event_status", "ask_countdown"):
        return subject_status(request, moment)
    if request.intent == "ask_next":
        return whats_next(request, moment)
    if requested_event(request) or request.entity("theme_day"):
        return subject_status(request, moment)  # "is the expo on right now?"
    return whats_on_now(request, moment)


class ActionAnswerNowNext(DatabaseAction):
    action_name = "action_answer_now_next"

    def answer(self, request: Request) -> Answer:
        return answer_now_next(request)
