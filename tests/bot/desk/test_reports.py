"""The desk's reports from the event log: outcomes per visitor message, grouping, charts."""

from __future__ import annotations

import datetime as dt

from bot.db.desk.conversations import LoggedEvent
from bot.desk.reports import Turn, daily, dashboard, turns, unanswered_csv, unanswered_groups

T0 = dt.datetime(2024, 9, 10, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in China


def user(conversation: str, text: str, intent: str, minute: int) -> LoggedEvent:
    at = (T0 + dt.timedelta(minutes=minute)).timestamp()
    return LoggedEvent(conversation, "user", at, intent, None, text)


def action(conversation: str, name: str, minute: int) -> LoggedEvent:
    at = (T0 + dt.timedelta(minutes=minute)).timestamp()
    return LoggedEvent(conversation, "action", at, None, name, None)


def marker(conversation: str, kind: str, minute: int) -> LoggedEvent:
    at = (T0 + dt.timedelta(minutes=minute)).timestamp()
    return LoggedEvent(conversation, kind, at, None, None, None)


def test_each_message_gets_the_outcome_of_the_actions_after_it() -> None:
    log = [
        user("a", "开幕式在哪", "ask_venue", 0),
        action("a", "action_answer_venue", 0),
        action("a", "action_listen", 0),
        user("a", "今天天气", "out_of_scope", 1),
        action("a", "utter_out_of_scope", 1),
        user("a", "嗯嗯啊", "nlu_fallback", 2),
        action("a", "action_two_stage_fallback", 2),
        user("b", "转人工", "request_human", 3),
        action("b", "action_request_human", 3),
        marker("b", "pause", 3),
        user("b", "有人吗", "greet", 4),  # staff have it now
        marker("b", "resume", 5),
        user("b", "日程", "ask_schedule", 6),
        action("b", "action_answer_schedule", 6),
    ]
    outcomes = [(t.conversation_id, t.text, t.outcome) for t in turns(log)]
    assert outcomes == [
        ("a", "开幕式在哪", "answered"),
        ("a", "今天天气", "out_of_scope"),
        ("a", "嗯嗯啊", "clarified"),
        ("b", "转人工", "handoff"),
        ("b", "有人吗", "staff"),
        ("b", "日程", "answered"),
    ]


def test_a_pause_inside_the_fallback_loop_counts_as_a_handoff() -> None:
    log = [
        user("c", "???", "nlu_fallback", 0),
        action("c", "action_two_stage_fallback", 0),
        marker("c", "pause", 0),
    ]
    assert [t.outcome for t in turns(log)] == ["handoff"]


def turn(text: str, outcome: str, minute: int, conversation: str = "x") -> Turn:
    return Turn(conversation, T0 + dt.timedelta(minutes=minute), text, None, outcome)


def test_similar_wordings_are_grouped_and_counted() -> None:
    groups = unanswered_groups(
        [
            turn("开幕式的地址在哪", "clarified", 0),
            turn("开幕式地址在哪", "out_of_scope", 1),
            turn("開幕式的地址在哪裡", "unhelpful", 2),  # Traditional: normalised first
            turn("怎么停车", "clarified", 3),
        ]
    )
    assert [(g.count, dict(g.outcomes)) for g in groups] == [
        (3, {"unhelpful": 1, "out_of_scope": 1, "clarified": 1}),
        (1, {"clarified": 1}),
    ]
    assert groups[0].latest[0].text == "開幕式的地址在哪裡"  # newest first
    csv_text = unanswered_csv(groups)
    assert csv_text.splitlines()[1].startswith("開幕式的地址在哪裡,3,1,1,0,1,")


def test_daily_chart_lists_every_day_in_china_time() -> None:
    late = Turn("y", dt.datetime(2024, 9, 10, 17, 0, tzinfo=dt.timezone.utc), "q", None, "handoff")
    chart = daily(
        [turn("a", "answered", 0), turn("b", "clarified", 1), turn("c", "staff", 2), late],
        ["2024-09-10", "2024-09-11", "2024-09-12"],
    )
    assert chart == [
        {"day": "2024-09-10", "answered": 1, "unanswered": 1, "unhelpful": 0},
        {"day": "2024-09-11", "answered": 0, "unanswered": 1, "unhelpful": 0},  # 01:00 China
        {"day": "2024-09-12", "answered": 0, "unanswered": 0, "unhelpful": 0},
    ]


def test_dashboard_counts_hours_outcomes_topics_and_the_median_wait() -> None:
    asked = [
        Turn("a", T0, "q1", "ask_venue", "answered"),
        Turn("a", T0 + dt.timedelta(minutes=5), "q2", "ask_venue", "answered"),
        Turn("b", T0 + dt.timedelta(minutes=70), "q3", "ask_schedule", "answered"),
        Turn("b", T0 + dt.timedelta(minutes=71), "q4", "request_human", "handoff"),
    ]
    hours = [T0, T0 + dt.timedelta(hours=1)]
    board = dashboard(asked, hours, [30.0, 90.0, 600.0])
    assert [(h["messages"], h["conversations"]) for h in board["per_hour"]] == [(2, 1), (2, 1)]
    assert board["outcomes"]["answered"] == 3 and board["outcomes"]["handoff"] == 1
    assert board["top_topics"][0] == {"intent": "ask_venue", "count": 2}
    assert board["median_wait_s"] == 90
