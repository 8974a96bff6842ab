"""Theme days: which day is which (校园日是几号), what is on a date (明天是什么主题日), the list."""

from __future__ import annotations

from datetime import date

from bot.lang import Lang
from actions import messages
from actions.common import Answer, DatabaseAction, Request
from actions.schedule import theme_day_label
from bot.db import ThemeDayInfo

TOPIC = "theme_day"


def describe_theme_day(theme_day: ThemeDayInfo, lang: Lang) -> str:
    name = theme_day.name(lang)
    if theme_day.date is None or not theme_day.date_confirmed:
        subject = f"2024年{name}的日期" if lang == "zh" else f"The 2024 date of {name}"
        return messages.not_announced(subject, lang)
    day = messages.format_day(theme_day.date, lang)
    return f"{name}是{day}。" if lang == "zh" else f"{name} is on {day}."


def theme_day_by_key(request: Request, key: str) -> Answer:
    theme_day = request.db.theme_day(key)
    if theme_day is None:
        return theme_day_list(request)
    return Answer(describe_theme_day(theme_day, request.lang), TOPIC, {"theme_day": key})


def theme_day_on(request: Request, day: date) -> Answer:
    lang = request.lang
    day_text = messages.format_day(day, lang)
    theme_day = request.db.theme_day_on(day)
    slots = {"date": day.isoformat()}
    if theme_day is None:
        confirmed = [t for t in request.db.theme_days() if t.date and t.date_confirmed]
        text = (
            f"{day_text}没有已公布的主题日。"
            if lang == "zh"
            else f"No theme day has been announced for {day_text}."
        )
        return Answer(
            messages.sentence([text, _schedule_hint(confirmed, lang)], lang), TOPIC, slots
        )
    slots["theme_day"] = theme_day.key
    if not theme_day.date_confirmed:  # named, with a hedge (issue #13), never as a fact
        label = theme_day_label(theme_day, lang)
        text = f"{day_text}：{label}。" if lang == "zh" else f"{day_text}: {label}."
        next_step = messages.NEXT_STEP[lang]
        return Answer(messages.sentence([text, next_step], lang), TOPIC, slots)
    name = theme_day.name(lang)
    text = f"{day_text}是{name}。" if lang == "zh" else f"{day_text} is {name}."
    return Answer(text, TOPIC, slots)


def theme_day_list(request: Request) -> Answer:
    lang = request.lang
    theme_days = request.db.theme_days()
    lines = [_list_line(t, lang) for t in theme_days]
    head = (
        f"宣传周期间共有{len(theme_days)}个主题日："
        if lang == "zh"
        else f"The week has {len(theme_days)} theme days:"
    )
    return Answer(head + "\n" + messages.bullet_lines(lines), TOPIC)


def _list_line(theme_day: ThemeDayInfo, lang: Lang) -> str:
    if theme_day.date and theme_day.date_confirmed:
        when = messages.format_day(theme_day.date, lang)
    else:
        when = "日期尚未公布" if lang == "zh" else "date not announced yet"
    return messages.labelled(theme_day.name(lang), when, lang)


def _schedule_hint(confirmed: list[ThemeDayInfo], lang: Lang) -> str:
    if not confirmed:
        return ""
    listing = messages.join_list(
        [f"{t.name(lang)} {messages.format_day(t.date, lang)}" for t in confirmed if t.date], lang
    )
    return f"已公布的主题日：{listing}。" if lang == "zh" else f"Announced theme days: {listing}."


def answer_theme_day(request: Request) -> Answer:
    key = request.entity("theme_day")
    if key:
        return theme_day_by_key(request, key)
    day = request.asked_date()
    if day:
        return theme_day_on(request, day)
    return theme_day_list(request)


class ActionAnswerThemeDay(DatabaseAction):
    action_name = "action_answer_theme_day"

    def answer(self, request: Request) -> Answer:
        return answer_theme_day(request)
