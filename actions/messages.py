"""Bilingual phrasing around database facts. No fact lives here — only the words around them.

Static replies (greetings, scope, fallback) are responses in domain.yml; the sentences here
need values from the database, which Rasa's response templates cannot look up.
"""

from __future__ import annotations

from datetime import date, time
from bot.lang import Lang

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
PART_OF_DAY = {
    "morning": {"zh": "上午", "en": "in the morning"},
    "afternoon": {"zh": "下午", "en": "in the afternoon"},
    "evening": {"zh": "晚上", "en": "in the evening"},
}

NEXT_STEP = {
    "zh": "请留意国家网络安全宣传周官方渠道发布的最新信息，或向现场服务台咨询。",
    "en": "Please check the official Cyber Security Week channels for updates, "
    "or ask the help desk on site.",
}
DATABASE_UNAVAILABLE = {
    "zh": "抱歉，活动信息库暂时无法访问，请稍后再试。" + NEXT_STEP["zh"],
    "en": "Sorry, the event information is unavailable right now. Please try again shortly. "
    + NEXT_STEP["en"],
}
INTERNAL_ERROR = {
    "zh": "抱歉，我这边出了点问题，暂时无法回答。请换个问法，或稍后再试。",
    "en": "Sorry, something went wrong on my side. Please rephrase or try again shortly.",
}
NOT_UNDERSTOOD_FOLLOW_UP = {
    "zh": "抱歉，我没弄清您指的是哪一项。可以说得完整一些吗？例如“开幕式在哪里”或“明天是什么主题日”。",
    "en": "Sorry, I'm not sure what that refers to. Could you ask the whole question? "
    "For example “Where is the opening ceremony?” or “Which theme day is tomorrow?”",
}


def not_announced(subject: str, lang: Lang) -> str:
    """A missing or unconfirmed fact: say so, then where to look — never a guess."""
    if lang == "zh":
        return f"{subject}目前尚未正式公布。{NEXT_STEP['zh']}"
    return f"{subject}: not officially announced yet. {NEXT_STEP['en']}"


def format_day(day: date, lang: Lang) -> str:
    if lang == "zh":
        return f"{day.month}月{day.day}日（{WEEKDAYS_ZH[day.weekday()]}）"
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B')}"


def format_span(start: date, end: date, lang: Lang) -> str:
    if start == end:
        return format_day(start, lang)
    if lang == "zh":
        end_text = f"{end.day}日" if end.month == start.month else f"{end.month}月{end.day}日"
        return f"{start.month}月{start.day}日至{end_text}"
    if start.month == end.month:
        return f"{start.day}–{end.day} {end.strftime('%B')}"
    return f"{start.day} {start.strftime('%B')} – {end.day} {end.strftime('%B')}"


def format_clock(start: time | None, end: time | None, part_of_day: str | None, lang: Lang) -> str:
    if start and end:
        return f"{start:%H:%M}–{end:%H:%M}"
    if start:
        return f"{start:%H:%M}"
    if part_of_day in PART_OF_DAY:
        return PART_OF_DAY[part_of_day][lang]
    return ""


def join_list(items: list[str], lang: Lang) -> str:
    if lang == "zh":
        return "、".join(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def sentence(parts: list[str], lang: Lang) -> str:
    """Joins finished sentences (each already ending in its punctuation)."""
    return ("" if lang == "zh" else " ").join(part for part in parts if part)


def labelled(label: str, value: str, lang: Lang) -> str:
    return f"{label}：{value}" if lang == "zh" else f"{label}: {value}"


def bullet_lines(lines: list[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)
