"""bot.nlu.dates.find_dates: every supported form, the false positives, hostile input, speed."""

from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from bot.clock import CHINA_TZ
from bot.nlu.dates import MAX_MENTIONS, DateMention, find_dates, warm_up

NOW = datetime(2024, 9, 10, 10, 0, tzinfo=CHINA_TZ)  # Tuesday of the event week (Mon 9 - Sun 15)

# (form, expected ISO date) with now = Tue 2024-09-10 10:00 +08:00
ABSOLUTE = [
    ("9月10日", "2024-09-10"),
    ("9月10号", "2024-09-10"),
    ("9月10", "2024-09-10"),
    ("10号", "2024-09-10"),
    ("10日", "2024-09-10"),
    ("十号", "2024-09-10"),
    ("十二号", "2024-09-12"),
    ("九月十日", "2024-09-10"),
    ("九月十五号", "2024-09-15"),
    ("二十号", "2024-09-20"),
    ("9.10", "2024-09-10"),
    ("9/10", "2024-09-10"),
    ("9-10", "2024-09-10"),
    ("2024-09-10", "2024-09-10"),
    ("2024/9/10", "2024-09-10"),
    ("2024年9月10日", "2024-09-10"),
    ("二〇二四年九月十日", "2024-09-10"),
    ("９月１０日", "2024-09-10"),  # full-width digits from a Chinese IME
    ("Sept 10", "2024-09-10"),
    ("Sep 10th", "2024-09-10"),
    ("September 10th", "2024-09-10"),
    ("September 10, 2024", "2024-09-10"),
    ("10 September", "2024-09-10"),
    ("10th of September", "2024-09-10"),
    ("the 10th", "2024-09-10"),
    ("the 12th", "2024-09-12"),
    ("周二", "2024-09-10"),
    ("星期二", "2024-09-10"),
    ("礼拜二", "2024-09-10"),
    ("週二", "2024-09-10"),  # Traditional
    ("禮拜五", "2024-09-13"),  # Traditional
    ("周一", "2024-09-09"),  # same Mon-Sun week, even though it is past
    ("周日", "2024-09-15"),
    ("星期天", "2024-09-15"),
    ("这周五", "2024-09-13"),
    ("本周三", "2024-09-11"),
    ("Tuesday", "2024-09-10"),
    ("Monday", "2024-09-09"),
    ("Sunday", "2024-09-15"),
    ("this Friday", "2024-09-13"),
    ("Fri", "2024-09-13"),
    ("今天", "2024-09-10"),
    ("明天", "2024-09-11"),
    ("后天", "2024-09-12"),
    ("後天", "2024-09-12"),  # Traditional
    ("大后天", "2024-09-13"),
    ("昨天", "2024-09-09"),
    ("前天", "2024-09-08"),
    ("today", "2024-09-10"),
    ("tomorrow", "2024-09-11"),
    ("the day after tomorrow", "2024-09-12"),
    ("yesterday", "2024-09-09"),
    ("now", "2024-09-10"),
    ("现在", "2024-09-10"),
    ("目前", "2024-09-10"),
    ("下周三", "2024-09-18"),
    ("下星期三", "2024-09-18"),
    ("上周五", "2024-09-06"),
    ("next Wednesday", "2024-09-18"),
    ("last Friday", "2024-09-06"),
]

RELATIVE = [
    ("the next day", 1),
    ("the day after", 1),
    ("the following day", 1),
    ("next day", 1),
    ("第二天", 1),
    ("次日", 1),
    ("隔天", 1),
    ("the day before", -1),
    ("the previous day", -1),
    ("前一天", -1),
]

NOT_DATES = [
    "5个分论坛",
    "10000平方米",
    "数万个岗位",
    "2023年",
    "2023年的网安周在哪里办的",
    "第5届",
    "13812345678",
    "020-12345678",
    "400-123-4567",
    "1万",
    "1万个岗位",
    "3 minutes",
    "it takes 3 minutes",
    "top 10",
    "the top 10 companies",
    "10号馆在哪",  # hall 10
    "3号线怎么走",  # metro line 3
    "去2号门",  # gate 2
    "10日内报名",  # within ten days
    "3-5天",
    "5-10分钟",
    "3.5小时",
    "9月31日",  # no such day
    "2月30号",
    "网安周日程",  # "week schedule", not Sunday
    "一周一次",  # "once a week", not Monday
    "这次宣传周一共几天",  # 一共 "in all", not Monday
    "安全周一起去看看",  # 一起 "together"
    "宣传周一般几天",  # 一般 "usually"
    "最后一天",  # "the last day", not an offset
    "提前一天",  # "a day ahead"
    "第一天",  # context-relative ordinal, not today
    "三点",  # a time of day
    "周末",  # a range
    "下周",  # a range
    "the 10th edition",
    "I sat in the sun",
    "Sun Yat-sen University",
    "Sun Yat-sen 大学",
    "Sat down",
    "you know",
    "nowhere",
    "May I ask a question",
    "version 2024",
]


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    warm_up()


def only(text: str, now: datetime = NOW) -> DateMention:
    found = find_dates(text, now)
    assert len(found) == 1, f"{text!r} -> {found}"
    return found[0]


@pytest.mark.parametrize(("text", "expected"), ABSOLUTE)
def test_absolute_forms_resolve_against_now(text: str, expected: str) -> None:
    mention = only(text)
    assert mention.value == date.fromisoformat(expected)
    assert mention.day_offset is None
    assert (mention.start, mention.end, mention.text) == (0, len(text), text)


@pytest.mark.parametrize(("text", "offset"), RELATIVE)
def test_context_relative_forms_give_a_day_offset(text: str, offset: int) -> None:
    mention = only(text)
    assert mention.value is None
    assert mention.day_offset == offset
    assert mention.text == text


@pytest.mark.parametrize("text", NOT_DATES)
def test_false_positives_yield_nothing(text: str) -> None:
    assert find_dates(text, NOW) == []


@pytest.mark.parametrize(
    ("sentence", "span", "expected"),
    [
        ("请问9月10日有什么活动？", "9月10日", "2024-09-10"),
        ("开幕式是9月8号吗", "9月8号", "2024-09-08"),
        ("那后天呢", "后天", "2024-09-12"),
        ("下周三有活动吗", "下周三", "2024-09-18"),
        ("週五有什麼論壇", "週五", "2024-09-13"),
        ("opening ceremony在9月10日吗？", "9月10日", "2024-09-10"),
        ("What is on Sept 12?", "Sept 12", "2024-09-12"),
        ("anything on the 11th?", "the 11th", "2024-09-11"),
        ("what's on wed", "wed", "2024-09-11"),
        ("and on Sat?", "Sat", "2024-09-14"),
        ("what about Sun?", "Sun", "2024-09-15"),
        ("this sun", "this sun", "2024-09-15"),
        ("明天下午三点", "明天", "2024-09-11"),
        ("宣传周周一下午有什么", "周一", "2024-09-09"),
        ("周一一共几场活动", "周一", "2024-09-09"),
        ("what about the day after tomorrow?", "the day after tomorrow", "2024-09-12"),
        ("是tomorrow吗", "tomorrow", "2024-09-11"),  # English right next to Chinese
        ("电话13812345678，9月12日来", "9月12日", "2024-09-12"),
    ],
)
def test_dates_inside_sentences_have_exact_spans(sentence: str, span: str, expected: str) -> None:
    mention = only(sentence)
    assert sentence[mention.start : mention.end] == span == mention.text
    assert mention.value == date.fromisoformat(expected)


def test_several_mentions_in_text_order() -> None:
    found = find_dates("10号和11号，还有the day after", NOW)
    assert [(m.text, m.value, m.day_offset) for m in found] == [
        ("10号", date(2024, 9, 10), None),
        ("11号", date(2024, 9, 11), None),
        ("the day after", None, 1),
    ]


def test_longest_expression_wins() -> None:
    assert only("大后天").value == date(2024, 9, 13)  # not 后天
    assert only("the day before yesterday").value == date(2024, 9, 8)  # not an offset
    assert only("2024年9月10日").text == "2024年9月10日"  # not 10日 alone


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        (datetime(2024, 9, 15, 20, 0, tzinfo=CHINA_TZ), "周一", "2024-09-09"),  # Sunday
        (datetime(2024, 9, 15, 20, 0, tzinfo=CHINA_TZ), "下周三", "2024-09-18"),
        (datetime(2024, 9, 15, 20, 0, tzinfo=CHINA_TZ), "Tuesday", "2024-09-10"),
        (datetime(2024, 9, 9, 8, 0, tzinfo=CHINA_TZ), "周日", "2024-09-15"),  # Monday
        (datetime(2024, 9, 9, 8, 0, tzinfo=CHINA_TZ), "next Monday", "2024-09-16"),
        (datetime(2024, 10, 10, 8, 0, tzinfo=CHINA_TZ), "三十一号", "2024-10-31"),
        (datetime(2025, 3, 1, 8, 0, tzinfo=CHINA_TZ), "9月10日", "2025-09-10"),  # now's year
        (datetime(2025, 3, 1, 8, 0, tzinfo=CHINA_TZ), "Sept 10", "2025-09-10"),
    ],
)
def test_weekdays_and_years_follow_now(now: datetime, text: str, expected: str) -> None:
    assert only(text, now).value == date.fromisoformat(expected)


def test_now_is_taken_in_china_time() -> None:
    # 23:30 UTC on 9 Sept is already 10 Sept in Guangzhou.
    utc_now = datetime(2024, 9, 9, 23, 30, tzinfo=timezone.utc)
    assert only("今天", utc_now).value == date(2024, 9, 10)
    assert only("tomorrow", utc_now).value == date(2024, 9, 11)
    assert only("明天", datetime(2024, 9, 10, 10, 0)).value == date(2024, 9, 11)  # naive = China


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "😀" * 50,
        "\x00\x01\x02\x1b[31m明天\x7f",
        "\ud800\udfff后天",  # lone surrogates
        bytes(range(256)).decode("latin-1"),
        "".join(chr(random.Random(7).randrange(0x20, 0x2FFFF)) for _ in range(10_000)),
        "1号" * 5_000,
        "9月10日" * 2_000,
        "\u200b明\u200b天",
    ],
)
def test_hostile_input_never_raises_and_is_bounded(text: str) -> None:
    started = time.perf_counter()
    found = find_dates(text, NOW)
    assert isinstance(found, list)
    assert len(found) <= MAX_MENTIONS
    assert time.perf_counter() - started < 0.5
    for mention in found:
        assert text[mention.start : mention.end] == mention.text


def test_non_string_input_returns_empty() -> None:
    assert find_dates(None, NOW) == []  # type: ignore[arg-type]
    assert find_dates(b"9/10", NOW) == []  # type: ignore[arg-type]
    assert find_dates("明天", None) == []  # type: ignore[arg-type]


def test_control_characters_do_not_hide_dates() -> None:
    found = find_dates("明天\x00后天", NOW)
    assert [m.value for m in found] == [date(2024, 9, 11), date(2024, 9, 12)]


def test_typical_message_takes_under_5_ms() -> None:
    messages = [
        "9月10日有什么活动",
        "那后天呢",
        "下周三有活动吗",
        "What is on Sept 12?",
        "what about this Friday",
        "开幕式在哪里举行",
        "where is the opening ceremony",
        "周二有哪些论坛",
        "the next day?",
        "10号的主题日是什么",
    ]
    rounds = 50
    started = time.perf_counter()
    for _ in range(rounds):
        for message in messages:
            find_dates(message, NOW)
    per_message = (time.perf_counter() - started) / (rounds * len(messages))
    assert per_message < 0.005, f"{per_message * 1000:.2f} ms per message"


def test_mentions_are_frozen() -> None:
    mention = only("明天")
    with pytest.raises(AttributeError):
        mention.value = date(2024, 1, 1)  # type: ignore[misc]
    assert mention.value + timedelta(days=1) == date(2024, 9, 12)
