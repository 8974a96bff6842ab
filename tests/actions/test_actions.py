"""Each action, driven by tracker fixtures against the seeded database (no Rasa server).

Expected values are read from the database, so these check the action's logic — which record
it picks, how it treats unconfirmed facts, which language it answers in — not fixed strings.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import common, handoff, messages
from actions.expo import ActionAnswerExpo
from actions.follow_up import ActionAnswerFollowUp
from actions.forum import ActionAnswerForum
from actions.handoff import ActionRequestHuman
from actions.recruitment import ActionAnswerRecruitment
from actions.schedule import ActionAnswerSchedule
from actions.theme_day import ActionAnswerThemeDay
from actions.venue import ActionAnswerVenue
from actions.week import ActionAnswerWeek
from bot.db import EventDB
from bot.db.desk import DeskStore, shared_desk_store


def tracker(
    text: str,
    intent: str,
    entities: dict[str, str] | None = None,
    slots: dict[str, Any] | None = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
    }
    return Tracker("visitor", slots or {}, latest, [], False, None, {}, "action_listen")


def run(action: Any, track: Tracker) -> tuple[str, dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, {}))
    text = "\n".join(message.get("text") or "" for message in dispatcher.messages)
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return text, slots


def test_venue_of_named_event_in_both_languages(db: EventDB) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    zh, slots = run(
        ActionAnswerVenue(),
        tracker("开幕式在哪", "ask_venue", {"event": "opening_ceremony"}, {"language": "zh"}),
    )
    en, _ = run(
        ActionAnswerVenue(),
        tracker(
            "where is the opening ceremony",
            "ask_venue",
            {"event": "opening_ceremony"},
            {"language": "en"},
        ),
    )
    assert venue.name("zh") in zh and venue.name("en") in en
    assert slots["event"] == "opening_ceremony" and slots["last_topic"] == "venue"
    assert "尚未" in zh  # no street address in the seed: said so, not invented


def test_venue_follow_up_uses_the_event_in_context(db: EventDB) -> None:
    venue = db.venue_of_event("main_forum")
    assert venue is not None
    text, _ = run(
        ActionAnswerVenue(),
        tracker("在哪里", "ask_venue", {}, {"language": "zh", "event": "main_forum"}),
    )
    assert db.event("main_forum").title("zh") in text and venue.name("zh") in text


def test_schedule_of_an_event_states_its_day(db: EventDB) -> None:
    text, slots = run(
        ActionAnswerSchedule(),
        tracker("主论坛什么时候", "ask_schedule", {"event": "main_forum"}, {"language": "zh"}),
    )
    main_forum = db.event("main_forum")
    assert f"{main_forum.start_date.month}月{main_forum.start_date.day}日" in text
    assert slots["event"] == "main_forum"


def test_schedule_by_date_lists_that_days_events_once(db: EventDB) -> None:
    text, slots = run(
        ActionAnswerSchedule(),
        tracker("9月10日有什么活动", "ask_schedule", {"date": "2024-09-10"}, {"language": "zh"}),
    )
    assert db.event("sub_forums").title("zh") in text
    assert db.theme_day("campus_day").name("zh") in text
    assert db.event("subforum_egov").title("zh") not in text  # folded into its group
    assert slots["date"] == "2024-09-10"


@pytest.mark.parametrize("key", ["telecom_day", "finance_day"])
def test_schedule_of_a_theme_day_lists_its_day_and_names_it(db: EventDB, key: str) -> None:
    theme_day = db.theme_day(key)
    text, slots = run(
        ActionAnswerSchedule(),
        tracker(f"{theme_day.name('zh')}那天有什么活动", "ask_schedule", {"theme_day": key}),
    )
    assert theme_day.name("zh") in text
    assert f"{theme_day.date.month}月{theme_day.date.day}日" in text
    assert slots["date"] == theme_day.date.isoformat() and slots["theme_day"] == key


def test_schedule_outside_the_week_says_nothing_is_announced() -> None:
    text, _ = run(
        ActionAnswerSchedule(),
        tracker("what's on October 1", "ask_schedule", {"date": "2024-10-01"}, {"language": "en"}),
    )
    assert "No events have been announced" in text


def test_theme_day_by_date_and_unconfirmed_by_name(db: EventDB) -> None:
    telecom = db.theme_day_on(date(2024, 9, 11))
    text, _ = run(
        ActionAnswerThemeDay(),
        tracker("明天是什么主题日", "ask_theme_day", {"date": "2024-09-11"}, {"language": "zh"}),
    )
    assert telecom is not None and telecom.name("zh") in text
    finance = db.theme_day("finance_day")
    text, _ = run(
        ActionAnswerThemeDay(),
        tracker("金融日是哪天", "ask_theme_day", {"theme_day": "finance_day"}, {"language": "zh"}),
    )
    assert "尚未" in text and f"{finance.date.day}日" not in text


def test_theme_day_list_marks_unconfirmed_dates(db: EventDB) -> None:
    text, _ = run(
        ActionAnswerThemeDay(), tracker("有哪些主题日", "ask_theme_day", {}, {"language": "zh"})
    )
    for theme_day in db.theme_days():
        assert theme_day.name("zh") in text
    assert text.count("尚未公布") == sum(not t.date_confirmed for t in db.theme_days())


@pytest.mark.parametrize(
    ("first", "follow_up", "expected_key"),
    [
        (
            {"theme_day": "campus_day", "last_topic": "theme_day"},
            {"theme_day": "telecom_day"},
            "telecom_day",
        ),
        (
            {"date": "2024-09-11", "last_topic": "theme_day"},
            {"date": "2024-09-12"},
            "rule_of_law_day",
        ),
        ({"date": "2024-09-10", "last_topic": "theme_day"}, {"day_offset": "+1"}, "telecom_day"),
    ],
)
def test_follow_up_answers_like_the_last_question(
    db: EventDB, first: dict[str, str], follow_up: dict[str, str], expected_key: str
) -> None:
    text, _ = run(
        ActionAnswerFollowUp(), tracker("那...呢", "inform", follow_up, {"language": "zh", **first})
    )
    assert db.theme_day(expected_key).name("zh") in text


def test_next_day_follow_up_on_the_schedule_moves_the_date(db: EventDB) -> None:
    text, slots = run(
        ActionAnswerFollowUp(),
        tracker(
            "and the next day?",
            "inform",
            {"day_offset": "+1"},
            {"language": "en", "date": "2024-09-10", "last_topic": "schedule"},
        ),
    )
    assert slots["date"] == "2024-09-11"
    assert "11 September" in text


def test_recruitment_states_confirmed_and_withholds_unconfirmed(db: EventDB) -> None:
    jobs, _ = run(
        ActionAnswerRecruitment(),
        tracker("招聘会提供多少岗位", "ask_recruitment_jobs", {}, {"language": "zh"}),
    )
    assert db.fact("recruitment_jobs").text("zh") in jobs
    apply, _ = run(
        ActionAnswerRecruitment(),
        tracker("how do I apply", "ask_recruitment_apply", {}, {"language": "en"}),
    )
    assert not db.fact("recruitment_apply").confirmed
    assert "not" in apply and "official" in apply


def test_forum_list_and_topic(db: EventDB) -> None:
    text, _ = run(
        ActionAnswerForum(), tracker("有哪些分论坛", "ask_forum_list", {}, {"language": "zh"})
    )
    for sub_forum in db.sub_forums():
        assert sub_forum.title("zh") in text
    text, _ = run(
        ActionAnswerForum(),
        tracker(
            "connected car forum",
            "ask_forum_topic",
            {"forum_topic": "connected_cars"},
            {"language": "en"},
        ),
    )
    assert db.sub_forum_by_topic("connected_cars").title("en") in text


@pytest.mark.parametrize(
    ("action", "intent", "fact_key"),
    [
        (ActionAnswerExpo(), "ask_expo_size", "expo_size"),
        (ActionAnswerExpo(), "ask_expo_areas", "expo_areas"),
        (ActionAnswerWeek(), "ask_week_theme", "theme"),
        (ActionAnswerWeek(), "ask_bay_area_cities", "bay_area_cities"),
        (ActionAnswerWeek(), "ask_past_editions", "edition_2023"),
        (ActionAnswerForum(), "ask_forum_releases", "main_forum_releases"),
    ],
)
def test_fact_intents_answer_from_their_fact(
    db: EventDB, action: Any, intent: str, fact_key: str
) -> None:
    for lang in ("zh", "en"):
        text, slots = run(action, tracker("?", intent, {}, {"language": lang}))
        assert db.fact(fact_key).text(lang) in text
        assert slots["last_topic"]


# --- handing over to a person (actions/handoff.py) ------------------------------------------
OPEN_HOURS = "2024-09-10T10:00:00+08:00"
AFTER_HOURS = "2024-09-10T20:00:00+08:00"


@pytest.fixture()
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DeskStore]:
    """The desk's tables in a database of the test's own (queue positions start at 1)."""
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CYBERWEEK_NOW", OPEN_HOURS)
    shared_desk_store.cache_clear()
    store = DeskStore(url)
    store.ensure_schema()
    yield store
    shared_desk_store.cache_clear()
    store.dispose()


def staff_online(store: DeskStore) -> None:
    staff = store.add_staff("ann", "Ann", "agent", "$argon2id$stand-in")
    store.add_session(uuid.uuid4().hex, staff.id, "csrf")


def ask_for_staff(
    text: str, channel: str | None, sender: str = "visitor", lang: str = "zh"
) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """Runs action_request_human for a message that came in on `channel`: (text, events,
    the dispatcher's messages)."""
    latest = {"text": text, "intent": {"name": "request_human", "confidence": 0.99}}
    events = [{"event": "user", "text": text, "input_channel": channel}]
    track = Tracker(sender, {"language": lang}, latest, events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ActionRequestHuman().run(dispatcher, track, {}))
    said = "\n".join(message.get("text") or "" for message in dispatcher.messages)
    return said, result, dispatcher.messages


def test_asking_for_a_person_queues_the_conversation_and_pauses_the_bot(desk: DeskStore) -> None:
    staff_online(desk)
    text, events, messages = ask_for_staff("转人工", "rest", sender="rest:1")
    assert [e["event"] for e in events] == ["pause"]  # the bot stays silent from now on
    queued = desk.active_handoff("rest:1")
    assert queued is not None and desk.queue_position(queued.id) == 1
    assert (queued.channel, queued.language, queued.reason, queued.status) == (
        "rest",
        "zh",
        "asked",
        "waiting",
    )
    assert queued.last_visitor_message == "转人工"
    assert "第 1 位" in text and handoff.desk_hours().describe("zh") in text
    assert handoff.NOBODY_ON_DUTY["zh"] not in text and handoff.CLOSED_NOW["zh"] not in text
    assert {"handoff": {"status": "waiting"}} in [m.get("custom") for m in messages]
    # the widget's visitor is second, and the desk's channel name is used, not Rasa's
    text, _, _ = ask_for_staff("/request_human", "socketio", sender="web:2", lang="en")
    second = desk.active_handoff("web:2")
    assert second is not None and (second.channel, second.reason) == ("webchat", "button")
    assert "number 2 in the queue" in text and handoff.desk_hours().describe("en") in text


def test_asking_twice_keeps_the_place_in_the_queue(desk: DeskStore) -> None:
    ask_for_staff("转人工", "rest", sender="rest:1")
    ask_for_staff("转人工", "rest", sender="rest:2")
    text, events, _ = ask_for_staff("人呢", "rest", sender="rest:1")
    assert "第 1 位" in text and [e["event"] for e in events] == ["pause"]
    assert len(desk.handoffs()) == 2


@pytest.mark.parametrize(
    ("clock", "online", "why"),
    [(AFTER_HOURS, True, handoff.CLOSED_NOW), (OPEN_HOURS, False, handoff.NOBODY_ON_DUTY)],
)
def test_the_visitor_is_told_when_nobody_will_answer_soon(
    desk: DeskStore,
    monkeypatch: pytest.MonkeyPatch,
    clock: str,
    online: bool,
    why: dict[str, str],
) -> None:
    """After hours, or with nobody logged in, the conversation still joins the queue (the
    visitor may leave a message), and the visitor is told not to wait."""
    monkeypatch.setenv("CYBERWEEK_NOW", clock)
    if online:
        staff_online(desk)
    for lang in ("zh", "en"):
        text, events, _ = ask_for_staff("转人工", "wechat", sender=f"wx:{lang}", lang=lang)
        assert why[lang] in text, text
        assert [e["event"] for e in events] == ["pause"]
        assert desk.active_handoff(f"wx:{lang}") is not None


def test_a_channel_without_the_desk_says_so_and_keeps_the_bot(desk: DeskStore) -> None:
    text, events, _ = ask_for_staff("转人工", "cmdline")
    assert text == handoff.NO_DESK_HERE["zh"]
    assert events == [] and desk.handoffs() == []


def test_a_broken_desk_database_keeps_the_bot_answering(
    desk: DeskStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{blocker / 'desk.db'}")
    shared_desk_store.cache_clear()
    text, events, _ = ask_for_staff("talk to a human", "rest", lang="en")
    assert text == messages.INTERNAL_ERROR["en"]
    assert events == []  # not paused: a visitor nobody will see must not be left in silence


def test_actions_answer_even_when_the_database_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    common.event_db.cache_clear()
    text, slots = run(
        ActionAnswerVenue(),
        tracker("开幕式在哪", "ask_venue", {"event": "opening_ceremony"}, {"language": "zh"}),
    )
    assert "暂时无法访问" in text and slots == {}


def test_unknown_entity_value_is_not_an_error() -> None:
    text, _ = run(
        ActionAnswerVenue(),
        tracker("x", "ask_venue", {"event": "x' OR '1'='1"}, {"language": "en"}),
    )
    assert "opening" in text.lower() or "not" in text


def test_an_unconfirmed_venue_address_is_said_to_be_unconfirmed_with_its_note() -> None:
    from actions.venue import describe_venue
    from bot.db import VenueInfo

    def venue(confirmed: bool, transport: str | None) -> VenueInfo:
        return VenueInfo(
            source="seed",
            key="hall",
            name_zh="会展中心",
            name_en="Expo Centre",
            city_zh="广州",
            city_en="Guangzhou",
            district_zh=None,
            district_en=None,
            address_zh="某路1号",
            address_en="1 Some Road",
            transport_zh=transport,
            transport_en=transport,
            confirmed=confirmed,
            note_zh="地址以主办方公告为准。",
            note_en="The address awaits the organisers' notice.",
        )

    pending = describe_venue(venue(False, None), "zh")
    assert "地址（待确认）" in pending and "地址以主办方公告为准。" in pending
    assert "交通指引" in pending and "详细地址" not in pending  # only the missing part
    settled = describe_venue(venue(True, "地铁4号线"), "en")
    assert "not confirmed" not in settled and "awaits" not in settled
    assert "not officially announced" not in settled and "not announced" not in settled


def test_an_answer_and_an_apology_both_end_the_bots_turn(
    db: EventDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa predicts action_listen after them without running its policies again."""
    ends_turn = {"event": "followup", "name": "action_listen", "timestamp": None}
    track = tracker("开幕式在哪", "ask_venue", {"event": "opening_ceremony"}, {"language": "zh"})
    answered = asyncio.run(ActionAnswerVenue().run(CollectingDispatcher(), track, {}))
    assert answered[-1] == ends_turn and answered.count(ends_turn) == 1

    def broken(self: Any, request: Any) -> Any:
        raise RuntimeError("a bug in a capability")

    monkeypatch.setattr(ActionAnswerVenue, "answer", broken)
    dispatcher = CollectingDispatcher()
    apologised = asyncio.run(ActionAnswerVenue().run(dispatcher, track, {}))
    assert apologised == [ends_turn]
    assert dispatcher.messages[0]["text"] == messages.INTERNAL_ERROR["zh"]
