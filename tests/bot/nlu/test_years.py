"""The `year` entity: explicit and relative years, resolved against the clock; not-years left out."""

from __future__ import annotations

from datetime import datetime

import pytest
from rasa.shared.nlu.constants import ENTITIES

from bot.clock import parse_now
from bot.nlu.date_extractor import DateExtractor
from bot.nlu.dates import find_dates
from bot.nlu.years import find_years
from tests.bot.nlu.helpers import DEMO_NOW, found, message

NOW = parse_now(DEMO_NOW)
THIS_YEAR = NOW.year


def years_in(text: str, now: datetime = NOW) -> list[tuple[str, int]]:
    dates = [(d.start, d.end) for d in find_dates(text, now)]
    return [(m.text, m.year) for m in find_years(text, now, dates)]


@pytest.mark.parametrize(
    ("text", "span", "offset"),
    [
        ("去年在哪里办的", "去年", -1),
        ("前年的开幕式在哪", "前年", -2),
        ("大前年呢", "大前年", -3),
        ("今年的主题是什么", "今年", 0),
        ("明年还在广州办吗", "明年", 1),
        ("上一届在哪个城市", "上一届", -1),
        ("上上届呢", "上上届", -2),
        ("下届在哪里", "下届", 1),
        ("去年網安週在哪裡", "去年", -1),  # Traditional
        ("where was it last year?", "last year", -1),
        ("Last Year's venue", "Last Year's", -1),
        ("the year before last", "the year before last", -2),
        ("what's the theme this year", "this year", 0),
        ("will it be in Guangzhou next year", "next year", 1),
        ("where was the previous edition", "previous edition", -1),
        ("two years ago", "two years ago", -2),
        ("last yr's host city?", "last yr's", -1),
        ("两年前在哪办", "两年前", -2),
    ],
)
def test_relative_years_count_from_the_clock(text: str, span: str, offset: int) -> None:
    assert years_in(text) == [(span, THIS_YEAR + offset)]


def test_relative_years_follow_the_clock_not_a_fixed_year() -> None:
    later = parse_now("2025-03-01T10:00:00+08:00")
    assert years_in("去年在哪办的", later) == [("去年", 2024)]
    assert years_in("last year", later) == [("last year", 2024)]


@pytest.mark.parametrize(
    ("text", "span", "year"),
    [
        ("2022年的开幕式在哪里", "2022年", 2022),
        ("2022 年在哪", "2022 年", 2022),
        ("２０２２年呢", "２０２２年", 2022),  # full-width digits
        ("二〇二二年在哪办的", "二〇二二年", 2022),
        ("二零二三年的宣传周", "二零二三年", 2023),
        ("22年在哪里办的", "22年", 2022),
        ("23年网安周几号开幕", "23年", 2023),
        ("2023那届在哪开的", "2023", 2023),
        ("where was the opening ceremony in 2022?", "2022", 2022),
        ("the 2023 edition", "2023", 2023),
        ("2023's host city", "2023", 2023),
        ("where is the 2025 week?", "2025", 2025),
        ("2010年有宣传周吗", "2010年", 2010),
    ],
)
def test_explicit_years(text: str, span: str, year: int) -> None:
    assert years_in(text) == [(span, year)]


def test_several_years_in_one_message() -> None:
    assert years_in("2022年和2023年分别在哪") == [("2022年", 2022), ("2023年", 2023)]
    assert years_in("the 2022 and 2023 editions") == [("2022", 2022), ("2023", 2023)]


@pytest.mark.parametrize(
    "text",
    [
        "2024年9月10日有什么活动",  # a date, not also a year
        "2022年9月5日开幕",
        "September 10, 2024",
        "2024-09-10有什么",
        "招聘会有2000个岗位吗",
        "are there 2000 jobs?",
        "2025届毕业生可以参加吗",
        "I was born in 2002, can I attend?",
        "class of 2025",
        "room 2022 is where?",
        "22年前",  # "22 years ago"
        "已经举办了22年",
        "过去10年",
        "10年",
        "除去年龄限制还有什么要求",
        "过去年份的资料",
        "5G基站有多少",
        "1万平方米",
        "电话 020-20221234",
        "3.5 km from the metro",
        "previous editions",  # several, not one year
    ],
)
def test_not_years(text: str) -> None:
    assert years_in(text) == []


def test_find_years_never_raises() -> None:
    assert find_years(None, NOW) == []  # type: ignore[arg-type]
    assert find_years("去年", "now") == []  # type: ignore[arg-type]
    assert years_in("年" * 5000 + "去年") == []  # past the scan limit


@pytest.fixture
def date_extractor(monkeypatch: pytest.MonkeyPatch) -> DateExtractor:
    monkeypatch.setenv("CYBERWEEK_NOW", DEMO_NOW)
    return DateExtractor.create({}, None, None, None)  # type: ignore[arg-type]


def test_date_extractor_adds_year_entities(date_extractor: DateExtractor) -> None:
    msgs = [message("去年开幕式在哪"), message("那2023年呢"), message("2024年9月10日有什么")]
    date_extractor.process(msgs)
    assert found(msgs[0], "DateExtractor") == [("year", str(THIS_YEAR - 1), "去年")]
    assert found(msgs[1], "DateExtractor") == [("year", "2023", "2023年")]
    assert found(msgs[2], "DateExtractor") == [("date", "2024-09-10", "2024年9月10日")]


def test_date_extractor_replaces_foreign_year_entities(date_extractor: DateExtractor) -> None:
    diet_year = {"entity": "year", "start": 0, "end": 2, "value": "去年", "extractor": "DIET"}
    msg = message("去年在哪", [diet_year])
    date_extractor.process([msg])
    assert [(e["entity"], e["value"], e["extractor"]) for e in msg.get(ENTITIES)] == [
        ("year", str(THIS_YEAR - 1), "DateExtractor")
    ]
