"""The evaluation's own logic (bot/evaluation*.py), without a model: scoring and expectations.

`make eval` is only worth its numbers if the scoring is right and the end-to-end question set
points at facts that exist, so both are checked here, in a second.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.db import EventDB
from evaluation.e2e import (
    QUESTIONS_DIR,
    Expectations,
    Reply,
    day_pattern,
    language_of,
    load_questions,
)
from evaluation.nlu import Prediction, score


def prediction(
    gold: str, got: str, gold_entities=(), entities=(), confidence: float = 0.9
) -> Prediction:
    return Prediction(
        text=f"{gold}->{got}",
        gold_intent=gold,
        intent=got,
        confidence=confidence,
        ranking=(),
        gold_entities=tuple(gold_entities),
        entities=tuple(entities),
    )


def test_scores_intents_fallbacks_and_confusions() -> None:
    report = score(
        "m",
        [
            prediction("ask_venue", "ask_venue"),
            prediction("ask_venue", "ask_schedule", confidence=0.99),
            prediction("out_of_scope", "nlu_fallback", confidence=0.45),
            prediction("ask_schedule", "ask_schedule"),
        ],
    )
    assert report.intent_accuracy == pytest.approx(0.5)
    assert report.confident_errors == 1 and report.fallbacks == 1
    assert report.confusions[0] == ("ask_venue", "ask_schedule", 1)
    assert report.intent_errors[0]["predicted"] == "ask_schedule"  # most confident first
    # F1: ask_venue 2/3, ask_schedule 2/3, out_of_scope 0 -> macro 4/9
    assert report.intent_macro_f1 == pytest.approx(4 / 9)


def test_scores_entities_as_value_pairs_per_type() -> None:
    report = score(
        "m",
        [
            prediction(
                "ask_venue",
                "ask_venue",
                gold_entities=[("event", "opening_ceremony")],
                entities=[("event", "开幕试")],  # right span, unusable value: wrong
            ),
            prediction(
                "ask_schedule",
                "ask_schedule",
                gold_entities=[("date", "2024-09-11"), ("event", "main_forum")],
                entities=[("date", "2024-09-11"), ("event", "main_forum")],
            ),
        ],
    )
    event = report.entity_scores["event"]
    assert (event["tp"], event["fp"], event["fn"]) == (1, 1, 1)
    assert report.entity_scores["date"]["f1"] == 1.0
    assert report.entity_f1 == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert report.entity_f1_names == pytest.approx(0.5)


@pytest.fixture(scope="module")
def expectations(seeded_db_url: str) -> Expectations:
    return Expectations(EventDB(seeded_db_url))


def test_every_e2e_question_names_known_checks_and_database_keys(
    expectations: Expectations,
) -> None:
    questions = load_questions(QUESTIONS_DIR)
    assert len(questions) >= 60
    for question in questions:
        lang = language_of(
            str(question["ask"][-1] if isinstance(question["ask"], list) else question["ask"])
        )
        problems = expectations.problems(question["expect"], lang, Reply("", ()))
        unknown = [p for p in problems if "unknown check" in p or "not in the event database" in p]
        assert not unknown, f"{question['ask']}: {unknown}"


def test_expectations_come_from_the_database(
    expectations: Expectations, seeded_db_url: str
) -> None:
    db = EventDB(seeded_db_url)
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    right = Reply(f"开幕式在{venue.name('zh')}举行。", ())
    assert expectations.problems({"venue_of_event": "opening_ceremony"}, "zh", right) == []
    assert expectations.problems({"venue_of_event": "opening_ceremony"}, "zh", Reply("北京", ()))


def test_an_unconfirmed_date_must_be_withheld(expectations: Expectations) -> None:
    # Finance Day's date is inferred in the seed (date_confirmed: false).
    said = Reply("金融日是9月13日（周五）。", ())
    withheld = Reply("2024年金融日的日期目前尚未正式公布。", ())
    assert expectations.problems({"theme_day": "finance_day"}, "zh", said)
    assert expectations.problems({"theme_day": "finance_day"}, "zh", withheld) == []


def test_day_forms() -> None:
    day = date(2024, 9, 11)
    assert day_pattern(day, "zh").search("9月11日（周三）")
    assert not day_pattern(day, "zh").search("9月1日")
    for text in ("Wednesday 11 September", "September 11", "9–11 September"):
        pattern = day_pattern(date(2024, 9, 9) if text.startswith("9–") else day, "en")
        assert pattern.search(text), text


def test_english_questions_need_english_answers(expectations: Expectations) -> None:
    assert expectations.problems({}, "en", Reply("开幕式在南沙举行", ()))
    quoted = Reply('The theme is "Cyber security for the people" (网络安全为人民).', ())
    assert expectations.problems({}, "en", quoted) == []


def test_a_listing_must_name_an_unconfirmed_theme_day_with_a_hedge(
    expectations: Expectations, seeded_db_url: str
) -> None:
    finance = EventDB(seeded_db_url).theme_day("finance_day")
    assert finance is not None and not finance.date_confirmed and finance.date is not None
    expect = {"hedged_theme_day_on": finance.date.isoformat()}
    hedged = Reply(f"主题日：预计为{finance.name('zh')}（日期尚未正式公布）", ())
    assert expectations.problems(expect, "zh", hedged) == []
    assert expectations.problems(expect, "zh", Reply("网络安全宣传普及活动（具体日期待公布）", ()))
    assert expectations.problems(expect, "zh", Reply(f"主题日：{finance.name('zh')}", ()))


def test_event_status_follows_the_clock(seeded_db_url: str) -> None:
    db = EventDB(seeded_db_url)
    title = db.event("opening_ceremony").title("en")
    over = Reply(f"The {title} is over: Sunday 8 September (2 days ago).", ())
    after = Expectations(db, now="2024-09-10T10:00:00+08:00")
    before = Expectations(db, now="2024-09-01T10:00:00+08:00")
    assert after.problems({"event_status": "opening_ceremony"}, "en", over) == []
    assert before.problems({"event_status": "opening_ceremony"}, "en", over)
