"""Find the year a visitor asks about ("2022年", "去年", "last year", "in 2023", "上届").

The value is always four digits. Relative words are resolved against `bot.clock.now()`, like
the dates of bot.nlu.dates: 去年 means the year before the one the visitor is speaking in, which
is the year of the current edition while the week is on, and stays right when a new edition is
loaded (the database's week record would still say 2024 until the organisers reload it).
Whether that year is the current edition, a past one the database holds, or one it does not
hold is the action's business (actions/editions.py), not the NLU's.

Guards: numbers that are not years (2000个岗位, 5G, room 2022室, 22年前 = "22 years ago"),
graduating classes and birth years (2025届毕业生, born in 2002), and spans that are already
part of a date (2024年9月10日 is a `date`: the caller passes the date spans to skip).
`find_years` never raises: on any failure it returns [].
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.nlu.text import fold

logger = logging.getLogger(__name__)

MAX_SCAN_CHARS = 1000  # as bot.nlu.dates: a chat message asking about a year is short
MAX_MENTIONS = 4
# A bare four-digit number counts as a year only this close to now (1998 in "born 1998"
# is not an edition; 2000 in "2000 jobs" is caught by the unit guard as well).
BARE_YEAR_WINDOW = 30
# "22年" is 2022 only for the years the week has existed (2014 on) up to a few years ahead;
# "10年" is far more often "ten years".
TWO_DIGIT_FIRST = 14
TWO_DIGIT_AHEAD = 5

_CHINESE_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0"}

# What may not follow a number for it to be a year: a unit or counter (个, 人, 元, jobs ...),
# a graduating class or birth (届毕业生, 级, 出生), a duration (年前, 年来, 年内, 年间 ...).
_NOT_AFTER_ZH_NUMBER = r"[个人元万亿千百米平名家岗位届级号室房层楼栋馆门线路次倍%]|出生|毕业|入学"
_NOT_AFTER_ZH_YEAR = r"[前来内间多半余里整龄纪届级后]|以[前后来内]|左右|出生|生人|毕业|入学"
_NOT_AFTER_EN_NUMBER = (
    r"\s*(?:[%.,:/-]\d|[%+]|(?:jobs?|positions?|vacancies|openings|people|persons|visitors"
    r"|companies|employers|firms|exhibitors|booths?|seats?|rooms?|yuan|rmb|dollars|usd|sqm|m2"
    r"|square|meters?|metres?|km|kg|graduates?|grads?|students?|times)(?![A-Za-z]))"
)
_BEFORE_NOT_A_YEAR_EN = re.compile(
    r"(?:born(?:\s+in)?|class\s+of|graduat\w*(?:\s+in)?|room|no\.?|number|hall|gate|iso|top)\s*$",
    re.IGNORECASE,
)

_ZH_FULL_YEAR = re.compile(
    rf"(?<![\d〇零一二三四五六七八九十百千万])(?P<digits>\d{{4}}|[〇零一二三四五六七八九]{{4}})"
    rf"\s*年(?!{_NOT_AFTER_ZH_YEAR})"
)
_ZH_SHORT_YEAR = re.compile(
    rf"(?<![\d.\-/:第近这那过多几共约达超满用花有了])(?P<digits>\d{{2}})\s*年(?!{_NOT_AFTER_ZH_YEAR})"
)
# A bare number (Chinese or English text): "2023那届", "the 2022 edition", "in 2023".
_BARE_YEAR = re.compile(
    rf"(?<![\d.\-/:$¥#A-Za-z])(?P<digits>(?:19|20)\d{{2}})(?![\d年A-Za-z])"
    rf"(?!\s*(?:{_NOT_AFTER_ZH_NUMBER}))(?!{_NOT_AFTER_EN_NUMBER})",
    re.IGNORECASE,
)
_ZH_RELATIVE_YEARS = {
    "大前年": -3,
    "前年": -2,
    "去年": -1,
    "今年": 0,
    "本年": 0,
    "明年": 1,
    "后年": 2,
    "大后年": 3,
    "上上届": -2,
    "上上一届": -2,
    "上届": -1,
    "上一届": -1,
    "本届": 0,
    "这届": 0,
    "这一届": 0,
    "下届": 1,
    "下一届": 1,
}
_ZH_RELATIVE = re.compile(
    # 除去年龄 (minus the age), 过去年份 (past years), 以后年 ... are not years
    r"(?<![除以之然最今过])(?:"
    + "|".join(sorted(map(re.escape, _ZH_RELATIVE_YEARS), key=len, reverse=True))
    + r")(?![龄纪轻份])"
)
_ZH_YEARS_AGO = re.compile(r"(?<![\d十百])(?P<count>[一两二三四五1-5])\s*年前")
_EN_RELATIVE_YEARS = {
    "the year before last": -2,
    "year before last": -2,
    "the year after next": 2,
    "last year": -1,
    "previous year": -1,
    "this year": 0,
    "current year": 0,
    "next year": 1,
    "coming year": 1,
    "last edition": -1,
    "previous edition": -1,
    "this edition": 0,
    "current edition": 0,
    "next edition": 1,
}
_EN_RELATIVE = re.compile(
    r"(?<![A-Za-z])(?:"
    + "|".join(
        sorted(
            (p.replace(" ", r"\s+").replace("year", "(?:year|yrs?)") for p in _EN_RELATIVE_YEARS),
            key=len,
            reverse=True,
        )
    )
    + r")(?:'s)?(?![A-Za-z])",
    re.IGNORECASE,
)
_EN_YEARS_AGO = re.compile(
    r"(?<![A-Za-z\d])(?P<count>a|one|two|three|four|five|[1-5])\s+years?\s+ago(?![A-Za-z])",
    re.IGNORECASE,
)
_ZH_COUNTS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5}
_EN_COUNTS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


@dataclass(frozen=True)
class YearMention:
    start: int
    end: int
    text: str
    year: int


def _digits(text: str) -> int:
    return int("".join(_CHINESE_DIGITS.get(c, c) for c in text))


def _full_year(match: re.Match[str], now: datetime, view: str) -> int | None:
    return _digits(match["digits"])


def _short_year(match: re.Match[str], now: datetime, view: str) -> int | None:
    value = int(match["digits"])
    if not TWO_DIGIT_FIRST <= value <= now.year % 100 + TWO_DIGIT_AHEAD:
        return None
    return now.year // 100 * 100 + value


def _bare_year(match: re.Match[str], now: datetime, view: str) -> int | None:
    value = int(match["digits"])
    if abs(value - now.year) > BARE_YEAR_WINDOW:
        return None
    if _BEFORE_NOT_A_YEAR_EN.search(view[: match.start()]):
        return None
    return value


def _zh_relative(match: re.Match[str], now: datetime, view: str) -> int | None:
    return now.year + _ZH_RELATIVE_YEARS[match[0]]


def _zh_years_ago(match: re.Match[str], now: datetime, view: str) -> int | None:
    count = match["count"]
    return now.year - (int(count) if count.isdigit() else _ZH_COUNTS[count])


def _en_relative(match: re.Match[str], now: datetime, view: str) -> int | None:
    phrase = re.sub(r"\s+", " ", match[0].lower()).removesuffix("'s")
    phrase = re.sub(r"\byrs?\b", "year", phrase)  # "last yr's host city"
    return now.year + _EN_RELATIVE_YEARS[phrase]


def _en_years_ago(match: re.Match[str], now: datetime, view: str) -> int | None:
    count = match["count"].lower()
    return now.year - (int(count) if count.isdigit() else _EN_COUNTS[count])


Resolver = Callable[[re.Match[str], datetime, str], int | None]
_PATTERNS: tuple[tuple[re.Pattern[str], Resolver], ...] = (
    (_ZH_FULL_YEAR, _full_year),
    (_ZH_SHORT_YEAR, _short_year),
    (_ZH_RELATIVE, _zh_relative),
    (_ZH_YEARS_AGO, _zh_years_ago),
    (_EN_RELATIVE, _en_relative),
    (_EN_YEARS_AGO, _en_years_ago),
    (_BARE_YEAR, _bare_year),
)


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in spans)


def _find_years(text: str, now: datetime, taken: list[tuple[int, int]]) -> list[YearMention]:
    scanned = text[:MAX_SCAN_CHARS]
    view = fold(scanned)  # 去年 / ２０２２年 -> same offsets
    if len(view) != len(scanned):
        view = scanned
    mentions: list[YearMention] = []
    for pattern, resolve in _PATTERNS:  # earlier patterns win an overlap (2022年 over 2022)
        for match in pattern.finditer(view):
            if _overlaps(match.start(), match.end(), taken):
                continue
            year = resolve(match, now, view)
            if year is None:
                continue
            taken.append((match.start(), match.end()))
            mentions.append(
                YearMention(match.start(), match.end(), text[match.start() : match.end()], year)
            )
    return sorted(mentions, key=lambda m: m.start)[:MAX_MENTIONS]


def find_years(
    text: str, now: datetime, date_spans: Iterable[tuple[int, int]] = ()
) -> list[YearMention]:
    """Years mentioned in `text` outside `date_spans`, relative words resolved against `now`.

    Never raises: hostile or broken input yields [].
    """
    if not isinstance(text, str) or not text or not isinstance(now, datetime):
        return []
    try:
        return _find_years(text, now, list(date_spans))
    except Exception:  # a year finder must never take the NLU pipeline down
        logger.debug("find_years failed on %r", text[:80], exc_info=True)
        return []
