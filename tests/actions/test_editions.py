"""Other editions (actions/editions.py): never the current edition's answer to another year.

Conversations run the real actions against the seeded database (tests/actions/conversation.py);
every expectation is read from the database: the edition facts, the current week's venue.
"""

from __future__ import annotations


import pytest

from bot.db import EventDB, FactInfo
from tests.actions.conversation import Conversation

NOT_ANNOUNCED = {"zh": "尚未公布", "en": "not announced"}
STAFF = "/request_human"


def current_year(db: EventDB) -> int:
    return db.week_span()[0].year


def edition(db: EventDB, year: int) -> FactInfo:
    fact = db.fact(f"edition_{year}")
    assert fact is not None and fact.confirmed, f"the seed describes the {year} edition"
    return fact


def current_venue_name(db: EventDB, lang: str) -> str:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    return venue.name(lang)  # type: ignore[arg-type]


def past_years(db: EventDB) -> list[int]:
    return sorted(int(f.key.removeprefix("edition_")) for f in db.facts_in("history"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_past_years_venue_comes_from_that_edition(db: EventDB, lang: str) -> None:
    year = past_years(db)[0]
    text = (
        f"{year}年开幕式在哪里举行"
        if lang == "zh"
        else f"where was the opening ceremony in {year}?"
    )
    reply = Conversation().say(text, "ask_venue", {"event": "opening_ceremony", "year": str(year)})
    assert edition(db, year).text(lang) in reply.text  # type: ignore[arg-type]
    assert current_venue_name(db, lang) not in reply.text


@pytest.mark.parametrize("intent", ["ask_schedule", "ask_week_dates", "ask_past_editions"])
def test_when_and_where_intents_answer_from_the_edition_fact(db: EventDB, intent: str) -> None:
    year = current_year(db) - 1
    reply = Conversation().say("去年是什么时候", intent, {"year": str(year)})
    assert edition(db, year).text("zh") in reply.text
    start, _ = db.week_span()
    assert f"{start.month}月{start.day}日" not in reply.text  # not the current week's dates


def test_other_questions_about_a_past_year_say_what_is_and_is_not_known(db: EventDB) -> None:
    year = current_year(db) - 1
    reply = Conversation().say(
        "what was the theme last year?", "ask_week_theme", {"year": str(year)}
    )
    theme = db.fact("theme")
    assert theme is not None and theme.text("en") not in reply.text  # never this year's theme
    assert edition(db, year).text("en") in reply.text
    assert str(current_year(db)) in reply.text  # "I only have the details of the 2024 week"


def test_an_event_the_edition_fact_does_not_describe_is_not_answered_as_if_it_did(
    db: EventDB,
) -> None:
    year = current_year(db) - 1
    reply = Conversation().say(
        "去年主论坛在哪", "ask_venue", {"event": "main_forum", "year": str(year)}
    )
    assert current_venue_name(db, "zh") not in reply.text
    assert edition(db, year).text("zh") in reply.text
    assert "只" in reply.text  # said to be all it knows


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_future_year_is_not_announced_with_a_next_step(db: EventDB, lang: str) -> None:
    year = current_year(db) + 1
    text = f"{year}年宣传周在哪里" if lang == "zh" else f"where is the {year} week?"
    reply = Conversation().say(text, "ask_past_editions", {"year": str(year)})
    assert NOT_ANNOUNCED[lang] in reply.text
    assert current_venue_name(db, lang) not in reply.text
    assert all(edition(db, y).text(lang) not in reply.text for y in past_years(db))  # type: ignore[arg-type]
    assert any(b["payload"] == STAFF for b in reply.buttons)


@pytest.mark.parametrize("year_offset", [-5, -20])
def test_a_year_the_database_holds_nothing_on_is_said_so(db: EventDB, year_offset: int) -> None:
    year = min(past_years(db)) + year_offset
    reply = Conversation().say(
        f"{year}年的开幕式在哪", "ask_venue", {"event": "opening_ceremony", "year": str(year)}
    )
    assert str(year) in reply.text
    assert all(str(held) in reply.text for held in past_years(db))  # what it does hold
    assert current_venue_name(db, "zh") not in reply.text
    assert any(b["payload"] == STAFF for b in reply.buttons)


def test_an_explicit_date_in_another_year_is_about_that_edition(db: EventDB) -> None:
    year = current_year(db) - 2
    reply = Conversation().say("9月5日有什么活动", "ask_schedule", {"date": f"{year}-09-05"})
    assert edition(db, year).text("zh") in reply.text


def test_several_years_in_one_question(db: EventDB) -> None:
    years = past_years(db)
    reply = Conversation().say(
        "2022年和2023年分别在哪", "ask_past_editions", {"year": [str(y) for y in years]}
    )
    assert all(edition(db, y).text("zh") in reply.text for y in years)


def test_this_years_edition_asked_like_a_past_one(db: EventDB) -> None:
    reply = Conversation().say("今年在哪办", "ask_past_editions", {"year": str(current_year(db))})
    assert current_venue_name(db, "zh") in reply.text
    assert all(edition(db, y).text("zh") not in reply.text for y in past_years(db))


def test_a_year_only_follow_up_asks_the_last_question_for_that_year(db: EventDB) -> None:
    first, second = past_years(db)[:2]
    talk = Conversation()
    talk.say(f"{first}年开幕式在哪", "ask_venue", {"event": "opening_ceremony", "year": str(first)})
    reply = talk.say(f"那{second}年呢", "inform", {"year": str(second)})
    assert edition(db, second).text("zh") in reply.text
    reply = talk.say("那今年呢", "inform", {"year": str(current_year(db))})
    assert current_venue_name(db, "zh") in reply.text  # back to this edition's answer


def test_the_year_slot_does_not_turn_a_later_question_into_one_about_that_year(
    db: EventDB,
) -> None:
    year = current_year(db) - 2
    talk = Conversation()
    talk.say(f"{year}年开幕式在哪", "ask_venue", {"event": "opening_ceremony", "year": str(year)})
    assert talk.slots["year"] == str(year)  # Rasa fills the slot from the entity
    reply = talk.say("主论坛在哪", "ask_venue", {"event": "main_forum"})
    assert current_venue_name(db, "zh") in reply.text
    assert edition(db, year).text("zh") not in reply.text


def test_a_bare_when_after_an_edition_answer_stays_in_that_year(db: EventDB) -> None:
    year = current_year(db) - 1
    talk = Conversation()
    talk.say(f"{year}年开幕式在哪", "ask_venue", {"event": "opening_ceremony", "year": str(year)})
    reply = talk.say("几号？", "ask_schedule")
    assert edition(db, year).text("zh") in reply.text


def test_a_year_only_follow_up_with_nothing_before_is_about_the_edition(db: EventDB) -> None:
    year = current_year(db) - 1
    reply = Conversation().say("2023年呢", "inform", {"year": str(year)})
    assert edition(db, year).text("zh") in reply.text
