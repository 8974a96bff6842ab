"""Find and resolve the dates visitors mention, in Chinese and English, against "now".

A hand-written regex locates candidate spans, with the guards this domain needs (10号馆, 3号线,
quantities, phone numbers); jionlp's `parse_time` resolves the Chinese forms in those short
spans, and the rest is resolved here: "9.10" (handed to jionlp as "9/10"), 现在/目前 (today),
the context-relative phrases (第二天, the next day: a day offset for the action to apply) and
the English forms. Why not jionlp's sentence-level extract_time or dateparser:
docs/decisions.md.

Weekdays mean the day in now's Mon-Sun week (the event week is Mon 9 - Sun 15 Sept 2024);
下周X / next X the following week. `find_dates` never raises: on any failure it returns [].
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.clock import CHINA_TZ
from bot.nlu.text import fold

logger = logging.getLogger(__name__)

MAX_SCAN_CHARS = 1000  # longer input is cut: a chat message asking about dates is short
MAX_MENTIONS = 8  # bounds the library calls per message

_jionlp_lock = threading.RLock()
_parse_time: Any = None
_jionlp_failed = False


@dataclass(frozen=True)
class DateMention:
    """A date expression: either an absolute `value` or a `day_offset` relative to context."""

    start: int
    end: int
    text: str
    value: date | None
    day_offset: int | None


Resolution = tuple[date | None, int | None]

# ---------------------------------------------------------------- candidate-locating patterns
# Hand-written on purpose: they decide WHERE a date is (with the guards against hall numbers,
# metro lines, quantities and phone numbers); resolving WHAT date it is is left to jionlp for
# Chinese forms.
_DAY_ARABIC = r"(?:3[01]|[12]\d|0?[1-9])(?!\d)"
_MONTH_ARABIC = r"(?:1[0-2]|0?[1-9])"
_DAY_CHINESE = r"(?:三十一|三十|二?十[一二三四五六七八九]?|[一二三四五六七八九])"
_MONTH_CHINESE = r"(?:十[一二]?|[一二三四五六七八九])"
_ZH_YEAR = r"(?:\d{4}|[〇零一二三四五六七八九]{4})\s*年\s*"
# "号/日" followed by these is a numbered thing (10号馆, 3号线, 2号门) or a duration (10日内).
_NOT_AFTER_DAY = "馆厅楼层门线口位台座站室房展车桌区场间栋院机码内游"

_ZH_FULL = re.compile(
    rf"(?<!\d)(?:{_ZH_YEAR})?(?:{_MONTH_ARABIC}|{_MONTH_CHINESE})\s*月\s*"
    rf"(?:{_DAY_ARABIC}\s*[日号]?|{_DAY_CHINESE}\s*[日号])"
    rf"(?![{_NOT_AFTER_DAY}])"
)
_ZH_DAY = re.compile(
    rf"(?<![\dA-Za-z〇零一二两三四五六七八九十百千万第几月./\-])"
    rf"(?P<day>{_DAY_ARABIC}|{_DAY_CHINESE})\s*(?P<suffix>[日号])(?![{_NOT_AFTER_DAY}])"
)
# 周日程 is "week schedule", 一周一次 "once a week", 宣传周一共 "the week in all" (一共, 一起,
# 一下子 ... are words of their own): not weekdays. 周一下午 is Monday afternoon.
_ZH_WEEKDAY = re.compile(
    r"(?:下下|上上|下个|上个|这个|下|上|这|本)?(?:周|星期|礼拜)"
    r"(?:一(?![次遍回个共起定直般些样切同旦]|下(?!午))|[二三四五六](?![次遍回个])"
    r"|[日天](?![程期常志报记子]))"
)
_ZH_RELATIVE = re.compile(r"大后天|大前天|今天|明天|后天|昨天|前天|今日|明日|昨日")
_ZH_NOW = re.compile(r"现在|目前")
# 最后一天 is "the last day", 提前一天 "one day ahead": not offsets from a date in context.
_ZH_OFFSET = re.compile(r"(?P<plus>第二天|次日|隔天|翌日|(?<!最)后一天)|(?P<minus>(?<!提)前一天)")
_NUMERIC = re.compile(
    r"(?<![0-9A-Za-z.\-/:$¥])"
    r"(?:(?P<full_year>\d{4})(?P<full_sep>[-/.])"
    r"(?P<full_month>\d{1,2})(?P=full_sep)(?P<full_day>\d{1,2})"
    r"|(?P<short_month>\d{1,2})(?P<short_sep>[-/.])(?P<short_day>\d{1,2}))"
    r"(?![0-9A-Za-z.\-/:%])"
    r"(?!\s*(?:[个人元万亿千百米分秒时点天周月年岁次届倍折度楼层]|小时"
    r"|(?:am|pm|h|hrs?|hours?|mins?|minutes?|days?|weeks?|months?|years?|people|persons"
    r"|times|km|kg|m)(?![A-Za-z])))",
    re.IGNORECASE,
)

_MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tues": 1,
    "tue": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thurs": 3,
    "thur": 3,
    "thu": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY_RE = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
# \b would not separate English from adjacent Chinese characters
_LATIN_WORD_START = r"(?<![A-Za-z0-9])"
_LATIN_WORD_END = r"(?![A-Za-z0-9])"
_EN_DAY_NUMBER = r"(?:3[01]|[12]\d|0?[1-9])"
_ORDINAL_SUFFIX = r"(?:st|nd|rd|th)"
_YEAR_TAIL = r"(?:\s*,?\s*(?P<year>\d{4}))?"

_EN_MONTH_DAY = re.compile(
    rf"{_LATIN_WORD_START}(?P<month>{_MONTH_RE})\.?\s+"
    rf"(?:the\s+)?(?P<day>{_EN_DAY_NUMBER}){_ORDINAL_SUFFIX}?{_YEAR_TAIL}{_LATIN_WORD_END}",
    re.IGNORECASE,
)
_EN_DAY_MONTH = re.compile(
    rf"{_LATIN_WORD_START}(?:the\s+)?(?P<day>{_EN_DAY_NUMBER}){_ORDINAL_SUFFIX}?\s+"
    rf"(?:of\s+)?(?P<month>{_MONTH_RE})\.?{_YEAR_TAIL}{_LATIN_WORD_END}",
    re.IGNORECASE,
)
_EN_ORDINAL = re.compile(
    rf"{_LATIN_WORD_START}(?:(?P<the>the)\s+)?(?P<day>{_EN_DAY_NUMBER}){_ORDINAL_SUFFIX}"
    rf"{_LATIN_WORD_END}",
    re.IGNORECASE,
)
_EN_WEEKDAY = re.compile(
    rf"{_LATIN_WORD_START}(?:(?P<modifier>this|next|last)\s+)?(?P<weekday>{_WEEKDAY_RE})\.?"
    rf"{_LATIN_WORD_END}",
    re.IGNORECASE,
)
_EN_RELATIVE = re.compile(
    rf"{_LATIN_WORD_START}(?:(?P<day_after_tomorrow>(?:the\s+)?day\s+after\s+tomorrow)"
    rf"|(?P<day_before_yesterday>(?:the\s+)?day\s+before\s+yesterday)"
    rf"|(?P<today>today|tonight|right\s+now|now)|(?P<tomorrow>tomorrow|tmrw|tmr)"
    rf"|(?P<yesterday>yesterday)){_LATIN_WORD_END}",
    re.IGNORECASE,
)
_EN_OFFSET = re.compile(
    rf"{_LATIN_WORD_START}(?:(?P<plus>(?:the\s+)?(?:next|following)\s+day|the\s+day\s+after)"
    rf"|(?P<minus>the\s+day\s+before|(?:the\s+)?previous\s+day|the\s+day\s+prior))"
    rf"{_LATIN_WORD_END}",
    re.IGNORECASE,
)
# "the 10th edition / anniversary / floor" is not a date.
_ORDINAL_NOUN = re.compile(
    r"\s+(?:editions?|anniversary|sessions?|annual|century|floors?|place|times?|rows?|booths?"
    r"|halls?|gates?|exits?|entrances?|rounds?|stages?|levels?|grades?|years?|days?|weeks?"
    r"|months?|largest|biggest|best|national|china|cyber|forums?|conferences?|summits?"
    r"|expos?|meetings?)(?![A-Za-z])",
    re.IGNORECASE,
)
_ON_BEFORE = re.compile(r"(?<![A-Za-z])on\s+$", re.IGNORECASE)


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    kind: str
    match: re.Match[str]


_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("zh_full", _ZH_FULL),
    ("zh_day", _ZH_DAY),
    ("zh_jionlp", _ZH_WEEKDAY),
    ("zh_jionlp", _ZH_RELATIVE),
    ("today", _ZH_NOW),
    ("offset", _ZH_OFFSET),
    ("numeric", _NUMERIC),
    ("en_month_day", _EN_MONTH_DAY),
    ("en_month_day", _EN_DAY_MONTH),
    ("en_ordinal", _EN_ORDINAL),
    ("en_weekday", _EN_WEEKDAY),
    ("en_relative", _EN_RELATIVE),
    ("offset", _EN_OFFSET),
)


# ------------------------------------------------------------------------------ jionlp access
def _jionlp_parse_time() -> Any:
    """jionlp's parser, imported once (its import prints a banner to stdout: swallowed)."""
    global _parse_time, _jionlp_failed
    if _parse_time is None and not _jionlp_failed:
        with _jionlp_lock:
            if _parse_time is None and not _jionlp_failed:
                try:
                    with contextlib.redirect_stdout(io.StringIO()):
                        import jionlp
                    _parse_time = jionlp.parse_time
                except Exception:  # Chinese dates degrade, NLU keeps running
                    _jionlp_failed = True
                    logger.error("jionlp cannot be imported; Chinese dates are not resolved")
    return _parse_time


def _jionlp_day(span: str, base: datetime) -> date | None:
    """The single day jionlp resolves `span` to, or None (a range, a time of day, a failure)."""
    parse_time = _jionlp_parse_time()
    if parse_time is None:
        return None
    try:
        with _jionlp_lock:  # jionlp's parser keeps per-call state on a shared instance
            result = parse_time(span, time_base=base)
        first, last = result["time"]
        day = date.fromisoformat(str(first)[:10])
        return day if str(last)[:10] == str(first)[:10] else None
    except Exception:  # jionlp raises ValueError and more on non-dates
        return None


# ------------------------------------------------------------------------------ resolvers
def _week_day(base: date, weekday: int, weeks_ahead: int) -> date:
    monday = base - timedelta(days=base.weekday())
    return monday + timedelta(days=weekday + 7 * weeks_ahead)


def _resolve_zh_day(match: re.Match[str], base: datetime) -> Resolution | None:
    # 一日/三日 alone mean "one day"/"three days" far more often than the 1st/3rd.
    if match["suffix"] == "日" and len(match["day"]) == 1 and not match["day"].isdigit():
        return None
    return _resolve_jionlp(match, base)


def _resolve_jionlp(match: re.Match[str], base: datetime) -> Resolution | None:
    day = _jionlp_day(re.sub(r"\s+", "", match[0]), base)
    return (day, None) if day else None


def _resolve_numeric(match: re.Match[str], base: datetime) -> Resolution | None:
    if match["full_year"]:
        month, day = match["full_month"], match["full_day"]
    else:
        month, day = match["short_month"], match["short_day"]
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return None
    # jionlp raises on "9.10" but reads "9/10"; the year form "2024.9.10" it reads as is.
    span = match[0] if match["full_year"] else f"{month}/{day}"
    return _resolve_jionlp_text(span, base)


def _resolve_jionlp_text(span: str, base: datetime) -> Resolution | None:
    day = _jionlp_day(span, base)
    return (day, None) if day else None


def _resolve_today(match: re.Match[str], base: datetime) -> Resolution | None:
    return base.date(), None


def _resolve_offset(match: re.Match[str], base: datetime) -> Resolution | None:
    return None, (1 if match["plus"] else -1)


def _resolve_en_month_day(match: re.Match[str], base: datetime) -> Resolution | None:
    year = int(match["year"]) if match["year"] else base.year
    try:
        return date(year, _MONTHS[match["month"].lower()], int(match["day"])), None
    except ValueError:
        return None


def _resolve_en_ordinal(match: re.Match[str], base: datetime, view: str) -> Resolution | None:
    if not match["the"] and not _ON_BEFORE.search(view[: match.start()]):
        return None  # bare "10th" is too often a rank
    if _ORDINAL_NOUN.match(view, match.end()):
        return None
    try:
        return base.date().replace(day=int(match["day"])), None
    except ValueError:
        return None


def _resolve_en_weekday(match: re.Match[str], base: datetime, view: str) -> Resolution | None:
    word = match["weekday"]
    if word.lower() in ("sat", "sun") and not _plainly_a_weekday(match, view):
        return None  # "I sat", "the sun", "Sun Yat-sen University"
    weeks = {"next": 1, "last": -1}.get((match["modifier"] or "").lower(), 0)
    return _week_day(base.date(), _WEEKDAYS[word.lower()], weeks), None


def _plainly_a_weekday(match: re.Match[str], view: str) -> bool:
    """An ambiguous abbreviation counts only as "this/next sun", "on sat" or a capitalised
    "Sun" that ends a phrase ("what about Sun?")."""
    if match["modifier"] or _ON_BEFORE.search(view[: match.start()]):
        return True
    if match["weekday"].islower():
        return False
    rest = view[match.end() :].lstrip(" ")
    return not rest or not (rest[0].isalnum() or rest[0] == "-")


def _resolve_en_relative(match: re.Match[str], base: datetime) -> Resolution | None:
    offsets = {
        "day_after_tomorrow": 2,
        "day_before_yesterday": -2,
        "today": 0,
        "tomorrow": 1,
        "yesterday": -1,
    }
    days = next(offsets[name] for name in offsets if match[name])
    return base.date() + timedelta(days=days), None


_RESOLVERS: dict[str, Callable[[re.Match[str], datetime], Resolution | None]] = {
    "zh_full": _resolve_jionlp,
    "zh_day": _resolve_zh_day,
    "zh_jionlp": _resolve_jionlp,
    "numeric": _resolve_numeric,
    "today": _resolve_today,
    "offset": _resolve_offset,
    "en_month_day": _resolve_en_month_day,
    "en_relative": _resolve_en_relative,
}


# ------------------------------------------------------------------------------ main entry
def _candidates(view: str) -> Iterator[_Candidate]:
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(view):
            yield _Candidate(match.start(), match.end(), kind, match)


def _longest_first(candidates: list[_Candidate]) -> list[_Candidate]:
    """Non-overlapping candidates, longer spans first ("the day after tomorrow" over
    "the day after", 大后天 over 后天), then in text order."""
    chosen: list[_Candidate] = []
    taken = bytearray(max((c.end for c in candidates), default=0))
    for cand in sorted(candidates, key=lambda c: (c.start - c.end, c.start)):
        if not any(taken[cand.start : cand.end]):
            taken[cand.start : cand.end] = b"\x01" * (cand.end - cand.start)
            chosen.append(cand)
    return sorted(chosen, key=lambda c: c.start)[:MAX_MENTIONS]


def _china_base(now: datetime) -> datetime:
    """`now` as naive China time, the form jionlp's time_base takes."""
    if now.tzinfo is None:
        return now
    return now.astimezone(CHINA_TZ).replace(tzinfo=None)


def _resolve(cand: _Candidate, base: datetime, view: str) -> Resolution | None:
    if cand.kind == "en_ordinal":
        return _resolve_en_ordinal(cand.match, base, view)
    if cand.kind == "en_weekday":
        return _resolve_en_weekday(cand.match, base, view)
    return _RESOLVERS[cand.kind](cand.match, base)


def _find_dates(text: str, now: datetime) -> list[DateMention]:
    if not isinstance(text, str) or not text or not isinstance(now, datetime):
        return []
    scanned = text[:MAX_SCAN_CHARS]
    view = fold(scanned)  # 週二 -> 周二, ９月１０日 -> 9月10日, same offsets
    if len(view) != len(scanned):
        view = scanned
    base = _china_base(now)
    mentions = []
    for cand in _longest_first(list(_candidates(view))):
        resolved = _resolve(cand, base, view)
        if resolved is not None:
            value, offset = resolved
            mentions.append(
                DateMention(cand.start, cand.end, text[cand.start : cand.end], value, offset)
            )
    return mentions


def find_dates(text: str, now: datetime) -> list[DateMention]:
    """Dates mentioned in `text`, resolved against `now` (taken in Asia/Shanghai).

    Never raises: hostile or broken input yields []. Only the first MAX_SCAN_CHARS characters
    are looked at and at most MAX_MENTIONS mentions are resolved.
    """
    try:
        return _find_dates(text, now)
    except Exception:  # a date finder must never take the NLU pipeline down
        logger.debug(
            "find_dates failed on %r", text[:80] if isinstance(text, str) else text, exc_info=True
        )
        return []


def warm_up() -> None:
    """Import jionlp and build its tables now, so the first visitor does not wait ~0.3 s."""
    find_dates("9月10日 周二", datetime(2024, 9, 10, 10, 0, tzinfo=CHINA_TZ))
