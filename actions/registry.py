"""Which capability answers which intent: one table for everything that re-asks a question.

The rules (data/rules/*.yml) send each intent to an action; a follow-up that asks an earlier
question again ("in English please", "那2023年呢", "确定吗？") needs the same mapping as a
function call, without Rasa in between. The table names action names, and the actions are
found among DatabaseAction's subclasses, so a capability module is never imported by name
here (tests/actions/test_follow_ups.py checks the table against the rules).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from functools import lru_cache

import actions
from actions.common import Answer, DatabaseAction, Request

AnswerFunction = Callable[[Request], Answer]

INTENT_ACTIONS: dict[str, str] = {
    "ask_schedule": "action_answer_schedule",
    "ask_venue": "action_answer_venue",
    "ask_theme_day": "action_answer_theme_day",
    **{
        intent: "action_answer_recruitment"
        for intent in (
            "ask_recruitment",
            "ask_recruitment_jobs",
            "ask_recruitment_audience",
            "ask_recruitment_location",
            "ask_recruitment_apply",
            "ask_recruitment_employers",
        )
    },
    **{
        intent: "action_answer_forum"
        for intent in ("ask_forum_list", "ask_forum_topic", "ask_forum_releases")
    },
    **{
        intent: "action_answer_expo"
        for intent in ("ask_expo_size", "ask_expo_areas", "ask_expo_dates", "ask_expo_highlights")
    },
    **{
        intent: "action_answer_week"
        for intent in (
            "ask_week_theme",
            "ask_week_organisers",
            "ask_week_dates",
            "ask_why_guangzhou",
            "ask_hk_macao",
            "ask_bay_area_cities",
            "ask_guangzhou_figures",
            "ask_past_editions",
        )
    },
    **{
        intent: "action_answer_logistics"
        for intent in (
            "ask_admission",
            "ask_opening_hours",
            "ask_transport",
            "ask_parking",
            "ask_registration",
            "ask_room",
            "ask_accessibility",
            "ask_wifi",
            "ask_luggage",
            "ask_lost_property",
        )
    },
    **{
        intent: "action_answer_now_next"
        for intent in ("ask_now", "ask_next", "ask_event_status", "ask_countdown")
    },
    "inform": "action_answer_follow_up",
}


def _subclasses(cls: type[DatabaseAction]) -> list[type[DatabaseAction]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


@lru_cache(maxsize=1)
def answering_actions() -> dict[str, type[DatabaseAction]]:
    """action name -> its DatabaseAction subclass, for every capability."""
    # Import every module of the package, as rasa-sdk's action server does, so that each
    # capability's DatabaseAction subclass exists.
    for module in pkgutil.iter_modules(actions.__path__):
        importlib.import_module(f"actions.{module.name}")
    return {cls.action_name: cls for cls in _subclasses(DatabaseAction) if cls.action_name}


@lru_cache(maxsize=1)
def answers() -> dict[str, AnswerFunction]:
    """intent -> the `answer()` of the action its rule runs."""
    by_name = answering_actions()
    return {
        intent: by_name[name]().answer for intent, name in INTENT_ACTIONS.items() if name in by_name
    }


def answer_for(intent: str) -> AnswerFunction | None:
    return answers().get(intent)
