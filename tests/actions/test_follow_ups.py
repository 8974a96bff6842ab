"""Follow-ups about the last answer and elliptic questions, over whole conversations.

Each conversation runs the real actions the rules pick, against the seeded database
(tests/actions/conversation.py). Expectations are read from the database or from what the
capability answers when asked directly, never written out.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from actions import messages
from actions.about_last import requested_language
from actions.context import is_bare
from bot.nlu.language_tagger import language_entity
from actions.registry import INTENT_ACTIONS, answering_actions, answers
from bot import paths
from bot.db import EventDB
from tests.actions.conversation import ABOUT_LAST_INTENTS, Conversation

STAFF = "/request_human"


def zh_day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def en_day(day: date) -> str:
    return f"{day.day} {day.strftime('%B')}"


# ------------------------------------------------------------------------- the registry
def rule_actions() -> dict[str, str]:
    found = {}
    for file in sorted((paths.REPO_ROOT / "data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(Path(file).read_text(encoding="utf-8"))["rules"]:
            steps = rule.get("steps") or []
            if len(steps) == 2 and "intent" in steps[0] and "action" in steps[1]:
                found[steps[0]["intent"]] = steps[1]["action"]
    return found


def test_the_registry_agrees_with_the_rules() -> None:
    rules = rule_actions()
    answered = {i: a for i, a in rules.items() if a.startswith("action_answer_")}
    about_last = {i for i, a in answered.items() if a == "action_answer_about_last"}
    assert about_last == set(ABOUT_LAST_INTENTS)
    expected = {i: a for i, a in answered.items() if i not in about_last}
    assert INTENT_ACTIONS == expected
    assert set(answers()) == set(expected)  # every action found


def test_every_answer_ends_the_bots_turn_in_the_rules_and_stories() -> None:
    """Answers end with FollowupAction(action_listen) (actions/common.py): no rule or story
    may expect another action after one."""
    answering = set(answering_actions())
    checked = 0
    for file in sorted(f for d in ("rules", "stories") for f in (paths.DATA_DIR / d).glob("*.yml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for block in [*(data.get("rules") or []), *(data.get("stories") or [])]:
            steps = block.get("steps") or []
            for index, step in enumerate(steps):
                if step.get("action") not in answering:
                    continue
                checked += 1
                following = steps[index + 1] if index + 1 < len(steps) else None
                where = f"{file.name}: {block.get('rule') or block.get('story')}"
                if following is None:
                    assert block.get("wait_for_user_input", True), where
                else:
                    assert "action" not in following, where
    assert checked >= len(answering)


# ---------------------------------------------------------------------- switch_language
@pytest.mark.parametrize(
    ("text", "previous", "expected"),
    [
        ("in English please", "zh", "en"),
        ("请用中文", "en", "zh"),
        ("用中文回答", "en", "zh"),
        ("can you answer in Chinese", "en", "zh"),
        ("用英文讲", "zh", "en"),
        ("請用英文回答", "zh", "en"),
        ("不要英文，用中文", "en", "zh"),
        ("English instead of Chinese please", "zh", "en"),
        ("not in Chinese please", "zh", "en"),
        ("switch language", "zh", "en"),
        ("换个语言", "en", "zh"),
    ],
)
def test_the_requested_language_comes_from_the_words(
    text: str, previous: str, expected: str
) -> None:
    assert requested_language(text, previous) == expected  # type: ignore[arg-type]


def test_in_english_please_re_answers_the_last_question_in_english() -> None:
    direct = Conversation().say("where is the main forum", "ask_venue", {"event": "main_forum"})
    talk = Conversation()
    first = talk.say("主论坛在哪", "ask_venue", {"event": "main_forum"})
    again = talk.say("in English please", "switch_language")
    assert again.text == direct.text != first.text
    assert again.slots["language"] == "en"


def test_answer_in_chinese_written_in_english_answers_in_chinese() -> None:
    direct = Conversation().say("电信日是几号", "ask_theme_day", {"theme_day": "telecom_day"})
    talk = Conversation()
    talk.say("when is Telecom Day", "ask_theme_day", {"theme_day": "telecom_day"})
    again = talk.say("can you answer in Chinese", "switch_language")
    assert again.text == direct.text


def test_switching_language_after_a_follow_up_keeps_what_it_was_about(db: EventDB) -> None:
    talk = Conversation()
    talk.say("9月10日有什么活动", "ask_schedule", {"date": "2024-09-10"})
    talk.say("第二天呢", "inform", {"day_offset": "+1"})
    again = talk.say("in English please", "switch_language")
    assert en_day(date(2024, 9, 11)) in again.text  # not shifted a second time


def test_switching_language_skips_turns_that_ask_nothing() -> None:
    direct = Conversation().say("who organises the week", "ask_week_organisers")
    talk = Conversation()
    talk.say("主办单位是谁", "ask_week_organisers")
    talk.say("谢谢", "thank")
    assert talk.say("English please", "switch_language").text == direct.text


def test_switching_language_with_nothing_asked_yet_just_agrees() -> None:
    reply = Conversation().say("请用英文", "switch_language")
    assert reply.slots["language"] == "en" and reply.text.isascii()


# --------------------------------------------------------------------------- ask_confirm
def test_are_you_sure_about_an_inferred_theme_day_says_it_is_not_confirmed(db: EventDB) -> None:
    finance_day = db.theme_day("finance_day")
    assert finance_day is not None and not finance_day.date_confirmed and finance_day.note_en
    talk = Conversation()
    talk.say("what's on 13 September?", "ask_schedule", {"date": finance_day.date.isoformat()})
    reply = talk.say("are you sure?", "ask_confirm")
    assert finance_day.name("en") in reply.text and finance_day.note_en in reply.text
    assert "not officially confirmed" in reply.text


def test_confirming_a_confirmed_answer_gives_its_sources(db: EventDB) -> None:
    main_forum = db.event("main_forum")
    assert main_forum is not None and main_forum.confirmed
    talk = Conversation()
    talk.say("主论坛什么时候", "ask_schedule", {"event": "main_forum"})
    reply = talk.say("确定吗？", "ask_confirm")
    assert reply.text.startswith("是的")
    assert all(s in reply.text for s in main_forum.sources if s != "seed")
    assert main_forum.note("zh") in reply.text  # what is still not announced about it
    assert reply.slots["event"] == "main_forum"  # "几号？" after it is still about it


def test_confirming_an_unannounced_fact_says_there_is_nothing_to_confirm(db: EventDB) -> None:
    apply = db.fact("recruitment_apply")
    assert apply is not None and not apply.confirmed
    talk = Conversation()
    talk.say("招聘会怎么报名", "ask_recruitment_apply")
    reply = talk.say("官方定了吗", "ask_confirm")
    assert "尚未正式确认" in reply.text and apply.subject("zh") in reply.text


def test_confirming_with_nothing_asked_asks_back() -> None:
    reply = Conversation().say("are you sure?", "ask_confirm")
    assert any(b["payload"] == STAFF for b in reply.buttons)


def test_confirming_another_editions_answer_reads_that_editions_fact(db: EventDB) -> None:
    fact = db.fact("edition_2023")
    assert fact is not None
    talk = Conversation()
    talk.say("去年在哪办的", "ask_past_editions", {"year": "2023"})
    reply = talk.say("is that confirmed?", "ask_confirm")
    assert fact.sources[0] in reply.text


# ------------------------------------------------------------------------- ask_other_one
def test_the_other_one_of_two_named_is_the_one_not_answered(db: EventDB) -> None:
    rule_of_law = db.theme_day("rule_of_law_day")
    assert rule_of_law is not None and rule_of_law.date
    talk = Conversation()
    talk.say(
        "电信日和法治日是几号", "ask_theme_day", {"theme_day": ["telecom_day", "rule_of_law_day"]}
    )
    reply = talk.say("另一个呢", "ask_other_one")
    assert rule_of_law.name("zh") in reply.text and zh_day(rule_of_law.date) in reply.text
    again = talk.say("in English please", "switch_language")  # still the other one
    assert rule_of_law.name("en") in again.text


def test_the_other_venue_offers_the_venues_not_answered(db: EventDB) -> None:
    asked = db.venue_of_event("opening_ceremony")
    assert asked is not None
    others = {e.venue_key for e in db.all_events() if e.venue_key} - {asked.key}
    talk = Conversation()
    talk.say("where is the opening ceremony", "ask_venue", {"event": "opening_ceremony"})
    reply = talk.say("the other venue?", "ask_other_one")
    offered = {b["payload"] for b in reply.buttons}
    assert offered - {STAFF} == {f'/ask_venue{{"venue": "{key}"}}' for key in others}


def test_the_other_one_with_nothing_asked_asks_back() -> None:
    reply = Conversation().say("what about the other one?", "ask_other_one")
    assert any(b["payload"] == STAFF for b in reply.buttons)


# --------------------------------------------------------------------- bare when / where
@pytest.mark.parametrize(
    "text",
    ["几号？", "在哪？", "where?", "when's it on?", "Where is it held?", "那是哪一天", "幾時？"],
)
def test_bare_questions(text: str) -> None:
    assert is_bare({"text": text, "entities": []})
    # the NLU tags every message with its language: that entity is not the visitor's words
    assert is_bare({"text": text, "entities": [language_entity(text)]})


@pytest.mark.parametrize("text", ["宣传周几号", "有什么活动", "can I take the metro?", "要门票吗"])
def test_not_bare_questions(text: str) -> None:
    assert not is_bare({"text": text, "entities": []})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_when_after_a_theme_day_answer_is_that_theme_days_date(db: EventDB, lang: str) -> None:
    campus = db.theme_day("campus_day")
    assert campus is not None and campus.date and campus.date_confirmed
    talk = Conversation()
    talk.say("主论坛在哪", "ask_venue", {"event": "main_forum"})  # an older event in the slots
    talk.say(
        "what's campus day" if lang == "en" else "校园日是什么",
        "ask_theme_day",
        {"theme_day": "campus_day"},
    )
    reply = talk.say("when?" if lang == "en" else "几号？", "ask_schedule")
    day = en_day(campus.date) if lang == "en" else zh_day(campus.date)
    assert day in reply.text


@pytest.mark.parametrize(("text", "lang"), [("那是几号呢", "zh"), ("and when is that?", "en")])
def test_a_bare_when_the_nlu_calls_inform_is_answered_as_one(
    db: EventDB, text: str, lang: str
) -> None:
    campus = db.theme_day("campus_day")
    assert campus is not None and campus.date
    talk = Conversation()
    talk.say("开幕式在哪", "ask_venue", {"event": "opening_ceremony"})
    talk.say("校园日是什么", "ask_theme_day", {"theme_day": "campus_day"})
    reply = talk.say(text, "inform")
    assert (en_day(campus.date) if lang == "en" else zh_day(campus.date)) in reply.text


def test_an_inform_without_when_or_where_words_is_not_a_bare_question() -> None:
    talk = Conversation()
    talk.say("校园日是什么", "ask_theme_day", {"theme_day": "campus_day"})
    reply = talk.say("那个呢", "inform")
    assert reply.buttons, "an unclear follow-up asks back with buttons"


def test_where_after_the_main_forum_is_its_venue(db: EventDB) -> None:
    venue = db.venue_of_event("main_forum")
    assert venue is not None
    talk = Conversation()
    talk.say("when is the main forum", "ask_schedule", {"event": "main_forum"})
    assert venue.name("en") in talk.say("where?", "ask_venue").text


def test_where_after_a_theme_day_is_not_the_main_venue(db: EventDB) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    talk = Conversation()
    talk.say("开幕式在哪", "ask_venue", {"event": "opening_ceremony"})
    talk.say("明天是什么主题日", "ask_theme_day", {"date": "2024-09-11"})
    reply = talk.say("在哪？", "ask_venue")
    assert venue.name("zh") not in reply.text  # the old event slot is not the theme day's place
    assert "尚未" in reply.text


def test_when_after_a_recruitment_answer_is_the_recruitment_date(db: EventDB) -> None:
    recruitment = db.event("recruitment")
    assert recruitment is not None
    talk = Conversation()
    talk.say("招聘会有多少岗位", "ask_recruitment_jobs")
    reply = talk.say("几号？", "ask_schedule")
    assert recruitment.title("zh") in reply.text


# ----------------------------------------------------------------------- the day after
@pytest.mark.parametrize(
    ("first", "then", "lang"),
    [
        (("9月10日有什么活动", "ask_schedule", {"date": "2024-09-10"}), "再后一天呢", "zh"),
        (
            ("what's on September 10?", "ask_schedule", {"date": "2024-09-10"}),
            "and the day after?",
            "en",
        ),
        (("校园日是几号", "ask_theme_day", {"theme_day": "campus_day"}), "再后一天呢", "zh"),
        (
            ("when is Campus Day", "ask_theme_day", {"theme_day": "campus_day"}),
            "and the day after?",
            "en",
        ),
    ],
)
def test_the_day_after_counts_from_the_last_answer(
    db: EventDB, first: tuple[str, str, dict[str, str]], then: str, lang: str
) -> None:
    talk = Conversation()
    talk.say("9月14日有什么", "ask_schedule", {"date": "2024-09-14"})  # an older date in the slots
    talk.say(*first)
    base = date(2024, 9, 10)
    campus = db.theme_day("campus_day")
    assert campus is not None and campus.date == base  # the seed's campus day is that day
    reply = talk.say(then, "inform", {"day_offset": "+1"})
    day = base + timedelta(days=1)
    assert (zh_day(day) if lang == "zh" else en_day(day)) in reply.text
    if first[1] == "ask_theme_day":
        following = db.theme_day_on(day)
        assert following is not None and following.name(lang) in reply.text  # type: ignore[arg-type]


def test_the_day_after_an_event(db: EventDB) -> None:
    main_forum = db.event("main_forum")
    assert main_forum is not None and main_forum.start_date
    talk = Conversation()
    talk.say("主论坛什么时候", "ask_schedule", {"event": "main_forum"})
    reply = talk.say("第二天呢", "inform", {"day_offset": "+1"})
    assert zh_day(main_forum.start_date + timedelta(days=1)) in reply.text


# ------------------------------------------------------------- no answers on topic switch
def previous_topic_texts(db: EventDB, lang: str) -> list[str]:
    """Texts of the main forum answer and of the recruitment facts."""
    main_forum, venue = db.event("main_forum"), db.venue_of_event("main_forum")
    assert main_forum is not None and venue is not None
    texts = [main_forum.title(lang), venue.name(lang)]  # type: ignore[arg-type]
    for key in (
        "recruitment_overview",
        "recruitment_jobs",
        "recruitment_audience",
        "recruitment_location",
    ):
        fact = db.fact(key)
        if fact is not None:
            texts.append(fact.text(lang))  # type: ignore[arg-type]
    return texts


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("can I take the metro?", "en"),
        ("要门票吗", "zh"),
        ("有wifi吗", "zh"),
        ("is there parking?", "en"),
    ],
)
def test_an_unusable_follow_up_after_the_main_forum_is_not_answered_with_an_old_fact(
    db: EventDB, question: str, lang: str
) -> None:
    talk = Conversation()
    talk.say(
        "where is the main forum" if lang == "en" else "主论坛在哪",
        "ask_venue",
        {"event": "main_forum"},
    )
    ranking = [("inform", 0.41), ("ask_venue", 0.2), ("ask_schedule", 0.1)]
    reply = talk.say(question, "inform", ranking=ranking)
    assert not any(text in reply.text for text in previous_topic_texts(db, lang))
    assert reply.text == messages.NOT_UNDERSTOOD_FOLLOW_UP[lang]  # type: ignore[index]
    assert any(b["payload"] == STAFF for b in reply.buttons)
    assert {"/ask_venue", "/ask_schedule"} <= {b["payload"] for b in reply.buttons}


def test_confirming_names_only_what_the_answer_stated(db: EventDB) -> None:
    held = list(db.facts_in("history"))
    assert len(held) >= 2  # the answer below reads them all, and states none
    talk = Conversation()
    talk.say("2010年在哪办的", "ask_past_editions", {"year": "2010"})
    reply = talk.say("确定吗", "ask_confirm")
    assert not any(f.subject("zh") in reply.text or f.text("zh") in reply.text for f in held)
