"""Now / next, has it started, how many days (actions/now_next.py), and unconfirmed theme days
named with a hedge in every listing by day (actions/schedule.py `day_listing`).

The clock is pinned per test (CYBERWEEK_NOW); what each answer must name is read from the
seeded database, so a change in the data changes the expectation, not the test.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.follow_up import ActionAnswerFollowUp
from actions.now_next import ActionAnswerNowNext, event_status
from actions.schedule import ActionAnswerSchedule, without_grouped
from actions.theme_day import ActionAnswerThemeDay
from bot import clock
from bot.db import EventDB
from ops.harness import DEMO_NOW
from tests.actions.test_actions import run, tracker

BEFORE_WEEK = "2024-09-01T10:00:00+08:00"
OPENING_MORNING = "2024-09-08T10:00:00+08:00"  # the opening ceremony's half-day
LAST_THEME_DAY_CONFIRMED = "2024-09-12T10:00:00+08:00"
AFTER_WEEK = "2024-10-01T10:00:00+08:00"
HEDGE = {"zh": re.compile(r"尚未正式公布"), "en": re.compile(r"not officially announced")}
NOW_NEXT = ActionAnswerNowNext()


def at(monkeypatch: pytest.MonkeyPatch, moment: str) -> date:
    monkeypatch.setenv("CYBERWEEK_NOW", moment)
    return clock.today()


def ask(
    intent: str, lang: str = "zh", entities: dict[str, str] | None = None, **slots: str
) -> tuple[str, dict[str, Any]]:
    return run(NOW_NEXT, tracker("?", intent, entities or {}, {"language": lang, **slots}))


def ask_with_buttons(intent: str, lang: str, entities: dict[str, str]) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    asyncio.run(NOW_NEXT.run(dispatcher, tracker("?", intent, entities, {"language": lang}), {}))
    return [button for message in dispatcher.messages for button in message.get("buttons") or []]


def zh_day(day: date) -> str:
    return f"{day.month}月{day.day}日"


# --- the status of an event at a moment (pure logic, synthetic times) ---------------------------


@pytest.mark.parametrize(
    ("clock_time", "expected"),
    [(time(9, 0), "later_today"), (time(14, 30), "on_now"), (time(17, 0), "earlier_today")],
)
def test_an_exact_time_decides_before_during_after(
    db: EventDB, clock_time: time, expected: str
) -> None:
    forum = db.event("telecom_day_forum")
    timed = dataclasses.replace(forum, start_time=time(14, 0), end_time=time(16, 0))
    moment = datetime.combine(forum.start_date, clock_time, tzinfo=clock.CHINA_TZ)
    assert event_status(timed, moment) == expected


def test_a_start_without_end_is_started_not_over(db: EventDB) -> None:
    forum = db.event("telecom_day_forum")
    timed = dataclasses.replace(forum, start_time=time(14, 0), end_time=None)
    moment = datetime.combine(forum.start_date, time(22, 0), tzinfo=clock.CHINA_TZ)
    assert event_status(timed, moment) == "started"


def test_each_precision_gets_its_own_status(db: EventDB) -> None:
    moment = clock.parse_now(DEMO_NOW)
    today = moment.date()
    for event in db.all_events():
        status = event_status(event, moment)
        if not event.date_known:
            assert status == "undated"
        elif event.start_date > today:
            assert status == "upcoming"
        elif (event.end_date or event.start_date) < today:
            assert status == "over"
        elif event.date_precision == "window":
            assert status == "window"


# --- what is on now ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_now_during_the_week_lists_todays_items_and_the_theme_day(db: EventDB, lang: str) -> None:
    today = clock.today()
    text, _ = ask("ask_now", lang)
    listed = without_grouped(db.events_on(today))
    assert listed
    for event in listed:
        assert event.title(lang) in text
    for member in db.events_on(today):
        if member.parent_key in {e.key for e in listed}:
            assert member.title(lang) not in text  # folded into its group
    theme_day = db.theme_day_on(today)
    assert theme_day is not None and theme_day.name(lang) in text
    for event in db.all_events():
        if not event.date_known and event.parent_key is None:
            assert event.title(lang) in text  # an undated event is named, not hidden
    # nothing of today has an announced clock time: nothing may be said to be "on now"
    assert ("正在进行：" if lang == "zh" else "On now:") not in text


def test_now_on_the_opening_morning_is_honest_about_the_unknown_time(
    db: EventDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, OPENING_MORNING)
    ceremony = db.event("opening_ceremony")
    text, _ = ask("ask_now")
    assert ceremony.title("zh") in text and "具体时间尚未公布" in text
    start, _ = db.week_span()
    assert "还没有开始" in text and zh_day(start) in text  # the week proper starts later


def test_now_before_the_week_says_when_it_starts_and_what_comes_first(
    db: EventDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = at(monkeypatch, BEFORE_WEEK)
    start, end = db.week_span()
    first = min(
        (e for e in db.all_events() if e.start_date and e.start_date > today),
        key=lambda e: e.start_date,
    )
    text, _ = ask("ask_now", "en")
    assert "not started" in text and f"{start.day}–{end.day} September" in text
    assert f"in {(start - today).days} days" in text
    assert first.title("en") in text


def test_now_after_the_week_says_it_is_over(db: EventDB, monkeypatch: pytest.MonkeyPatch) -> None:
    today = at(monkeypatch, AFTER_WEEK)
    _, end = db.week_span()
    text, _ = ask("ask_now")
    assert "已经结束" in text and f"{(today - end).days}天前" in text
    assert not any(e.title("zh") in text for e in db.all_events() if e.date_known)


# --- what comes next ---------------------------------------------------------------------------


def test_next_gives_the_next_day_with_its_events_and_theme_day(db: EventDB) -> None:
    tomorrow = clock.today() + timedelta(days=1)
    text, _ = ask("ask_next")
    starting = [e for e in db.events_on(tomorrow) if e.start_date == tomorrow]
    assert starting
    for event in starting:
        assert event.title("zh") in text
    theme_day = db.theme_day_on(tomorrow)
    assert theme_day is not None and theme_day.name("zh") in text
    assert zh_day(tomorrow) in text and "明天" in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_next_names_an_unconfirmed_theme_day_with_a_hedge(
    db: EventDB, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    tomorrow = at(monkeypatch, LAST_THEME_DAY_CONFIRMED) + timedelta(days=1)
    theme_day = db.theme_day_on(tomorrow)
    assert theme_day is not None and not theme_day.date_confirmed
    text, _ = ask("ask_next", lang)
    assert theme_day.name(lang) in text and HEDGE[lang].search(text)


def test_next_after_the_week_lists_nothing(db: EventDB, monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, AFTER_WEEK)
    text, _ = ask("ask_next", "en")
    assert "is over" in text
    assert not any(e.title("en") in text for e in db.all_events() if e.date_known)


# --- has it started / is it over ---------------------------------------------------------------


def test_a_past_event_is_over_and_a_future_one_has_not_started(db: EventDB) -> None:
    today = clock.today()
    past = [e for e in db.all_events() if e.date_known and (e.end_date or e.start_date) < today]
    future = [e for e in db.all_events() if e.date_known and e.start_date > today]
    assert past and future
    for event in past:
        text, slots = ask("ask_event_status", "zh", {"event": event.key})
        assert "已经结束" in text or "已经过去" in text, text
        assert slots["event"] == event.key and slots["last_topic"] == "now_next"
    for event in future:
        text, _ = ask("ask_event_status", "en", {"event": event.key})
        assert "has not started yet" in text
        days = (event.start_date - today).days
        assert ("tomorrow" if days == 1 else f"in {days} days") in text


def test_a_running_event_counts_the_days_left(db: EventDB) -> None:
    today = clock.today()
    expo = db.event("expo")
    assert expo.start_date < today < expo.end_date
    text, _ = ask("ask_event_status", "zh", {"event": "expo"})
    assert "正在举办" in text and f"还有{(expo.end_date - today).days + 1}天" in text
    assert expo.note("zh") in text  # what is not announced about it (hours) is said


def test_a_window_event_today_is_not_claimed_to_be_on(db: EventDB) -> None:
    sub_forums = db.event("sub_forums")
    assert sub_forums.date_precision == "window"
    text, _ = ask("ask_event_status", "en", {"event": "sub_forums"})
    assert "can't say whether it is on today" in text and "not been announced" in text
    assert {"title": "Talk to staff", "payload": "/request_human"} in ask_with_buttons(
        "ask_event_status", "en", {"event": "sub_forums"}
    )


def test_an_undated_event_is_not_announced_with_a_person_to_ask(db: EventDB) -> None:
    undated = next(e for e in db.all_events() if not e.date_known)
    text, _ = ask("ask_event_status", "zh", {"event": undated.key})
    assert "尚未" in text and "已经结束" not in text and "还没有开始" not in text
    assert {"title": "人工服务", "payload": "/request_human"} in ask_with_buttons(
        "ask_event_status", "zh", {"event": undated.key}
    )


def test_a_half_day_event_this_half_day_is_neither_on_nor_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at(monkeypatch, OPENING_MORNING)
    text, _ = ask("ask_event_status", "zh", {"event": "opening_ceremony"})
    assert "无法确定此刻是否正在进行" in text and "已经结束" not in text


def test_an_elliptic_status_question_uses_the_event_in_context(db: EventDB) -> None:
    text, slots = ask("ask_event_status", "zh", {}, event="expo", last_topic="schedule")
    assert db.event("expo").title("zh") in text and slots["event"] == "expo"


def test_a_question_naming_the_week_is_about_the_week_not_the_event_in_context(
    db: EventDB,
) -> None:
    track = tracker("网安周结束了吗", "ask_event_status", {}, {"language": "zh", "event": "expo"})
    text, _ = run(NOW_NEXT, track)
    start, end = db.week_span()
    assert "宣传周正在进行" in text and db.event("expo").title("zh") not in text
    assert f"共{(end - start).days + 1}天" in text


# --- how many days -----------------------------------------------------------------------------


def test_countdown_to_a_confirmed_theme_day(db: EventDB, monkeypatch: pytest.MonkeyPatch) -> None:
    today = at(monkeypatch, BEFORE_WEEK)
    campus = db.theme_day("campus_day")
    assert campus.date_confirmed
    text, slots = ask("ask_countdown", "zh", {"theme_day": "campus_day"})
    assert campus.name("zh") in text and zh_day(campus.date) in text
    assert f"还有{(campus.date - today).days}天" in text and slots["theme_day"] == "campus_day"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_countdown_to_an_unconfirmed_theme_day_neither_states_nor_counts_its_date(
    db: EventDB, lang: str
) -> None:
    finance = db.theme_day("finance_day")
    assert not finance.date_confirmed
    text, _ = ask("ask_countdown", lang, {"theme_day": "finance_day"})
    inferred = zh_day(finance.date) if lang == "zh" else f"{finance.date.day} September"
    assert finance.name(lang) in text and HEDGE[lang].search(text) and inferred not in text
    days = (finance.date - clock.today()).days
    assert (f"还有{days}天" if lang == "zh" else f"in {days} days") not in text


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (BEFORE_WEEK, lambda start, end, today: f"in {(start - today).days} days"),
        (DEMO_NOW, lambda start, end, today: f"{(end - today).days + 1} days left"),
        (AFTER_WEEK, lambda start, end, today: f"ended {(today - end).days} days ago"),
    ],
)
def test_countdown_of_the_week(
    db: EventDB,
    monkeypatch: pytest.MonkeyPatch,
    moment: str,
    expected: Callable[[date, date, date], str],
) -> None:
    today = at(monkeypatch, moment)
    start, end = db.week_span()
    text, _ = ask("ask_countdown", "en")
    assert expected(start, end, today) in text


# --- unconfirmed theme days in every listing by day --------------------------------------------

UNCONFIRMED_DAYS = ["2024-09-13", "2024-09-14", "2024-09-15"]


@pytest.mark.parametrize("iso", UNCONFIRMED_DAYS)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_schedule_of_a_day_names_its_unconfirmed_theme_day_with_a_hedge(
    db: EventDB, iso: str, lang: str
) -> None:
    theme_day = db.theme_day_on(date.fromisoformat(iso))
    assert theme_day is not None and not theme_day.date_confirmed
    text, _ = run(
        ActionAnswerSchedule(), tracker("?", "ask_schedule", {"date": iso}, {"language": lang})
    )
    assert theme_day.name(lang) in text and HEDGE[lang].search(text)
    for event in without_grouped(db.events_on(date.fromisoformat(iso))):
        assert event.title(lang) in text


@pytest.mark.parametrize("iso", UNCONFIRMED_DAYS)
def test_theme_day_by_date_and_a_follow_up_name_it_with_a_hedge(db: EventDB, iso: str) -> None:
    theme_day = db.theme_day_on(date.fromisoformat(iso))
    by_date, _ = run(
        ActionAnswerThemeDay(), tracker("?", "ask_theme_day", {"date": iso}, {"language": "zh"})
    )
    follow_up, _ = run(
        ActionAnswerFollowUp(),
        tracker("周五呢", "inform", {"date": iso}, {"language": "zh", "last_topic": "schedule"}),
    )
    for text in (by_date, follow_up):
        assert theme_day.name("zh") in text and HEDGE["zh"].search(text)


def test_a_confirmed_theme_day_is_listed_without_a_hedge(db: EventDB) -> None:
    today = clock.today()
    theme_day = db.theme_day_on(today)
    assert theme_day is not None and theme_day.date_confirmed
    text, _ = run(
        ActionAnswerSchedule(),
        tracker("?", "ask_schedule", {"date": today.isoformat()}, {"language": "zh"}),
    )
    assert f"主题日：{theme_day.name('zh')}" in text and f"预计为{theme_day.name('zh')}" not in text
