"""The benchmark's traffic: what simulated visitors ask, and what counts as a failed turn.

Kept apart from the locustfile so that the rules can be tested without importing Locust
(which monkey-patches the standard library through gevent on import).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence

from actions.messages import DATABASE_UNAVAILABLE, INTERNAL_ERROR
from bot.unavailable import BUSY, TURN_FAILED

Conversation = tuple[str, ...]

# Replies that say the turn failed (a 200 with a message since failures are apologised for):
# counted as errors, as Rasa's empty `[]` was.
FAILED_TURN_TEXTS = frozenset(
    text
    for replies in (TURN_FAILED, DATABASE_UNAVAILABLE, INTERNAL_ERROR)
    for text in replies.values()
)
# A turn turned away by the admission gate (bot/admission.py): an error too.
BUSY_TEXTS = frozenset(BUSY.values())
# A 200 with no bot message: Rasa's answer to a turn that failed inside it, or a bot with
# nothing to say (the `rasa init` bot's model, for questions its stories do not cover).
EMPTY_REPLY = "empty reply []"
# Each kind of reply that answers nothing, with the reason the bench reports for it.
NOT_ANSWERED: tuple[tuple[frozenset[str], str], ...] = (
    (FAILED_TURN_TEXTS, "apology: the turn failed"),  # ops/rasa_entry.py answers failures so
    (BUSY_TEXTS, "busy: the turn waited too long for a place"),
)

# One conversation = one visitor (its own sender). The mix is weighted as the help desk sees it:
# mostly Simplified Chinese, then English, Traditional Chinese and mixed zh-en, with about a
# fifth of the conversations carrying a follow-up that only makes sense in context.
SINGLE_QUESTIONS: dict[str, tuple[str, ...]] = {
    "zh": (
        "开幕式在哪里举行",
        "主论坛几号开",
        "明天有哪些活动",
        "9月11号有什么安排",
        "今天是什么主题日",
        "有哪些主题日",
        "金融日是哪天",
        "有哪些分论坛",
        "博览会有多大",
        "博览会有哪些展区",
        "招聘会提供多少岗位",
        "招聘会怎么报名",
        "蕉门公园怎么过去",
        "主论坛要门票吗",
        "博览会几点开门",
        "今年网安周的主题是什么",
        "你好",
        "谢谢",
    ),
    "zh-Hant": (
        "開幕式在哪裡舉辦",
        "主論壇幾時開",
        "電信日是哪天",
        "博覽會有哪些展區",
        "招聘會怎麼報名",
        "主辦單位有哪些",
    ),
    "en": (
        "Where is the opening ceremony?",
        "when's the main forum?",
        "what's on Wednesday?",
        "list all the theme days",
        "when is Youth Day?",
        "how big is the expo?",
        "how many jobs are on offer at the job fair",
        "how do I get to the expo by metro?",
        "who organises the cyber security week",
        "hello",
    ),
    "mixed": (
        "opening ceremony在哪",
        "main forum几号",
        "expo门票多少钱",
        "job fair怎么报名",
        "Youth Day是哪天",
    ),
}
FOLLOW_UPS: tuple[Conversation, ...] = (
    ("主论坛在哪", "几号？"),
    ("招聘会有多少岗位", "几号？"),
    ("明天是什么主题日", "后天呢"),
    ("校园日是几号", "那电信日呢"),
    ("主論壇什麼時候", "在哪裡"),
    ("when is the main forum", "where is it?"),
    ("When is Campus Day?", "and the day after?"),
    ("where is the main forum?", "can I take the metro?"),
    ("主论坛在哪", "could you say that in English?"),
    ("expo在哪里", "要门票吗"),
)
# Percentages of conversations.
LANGUAGE_WEIGHTS = {"zh": 40, "zh-Hant": 10, "en": 20, "mixed": 10, "follow-up": 20}


def all_conversations() -> list[Conversation]:
    """Every conversation the mix can pick (for tests and the report)."""
    singles = [(text,) for texts in SINGLE_QUESTIONS.values() for text in texts]
    return singles + list(FOLLOW_UPS)


def pick_conversation(rng: random.Random) -> Conversation:
    """A conversation drawn by the weights of LANGUAGE_WEIGHTS."""
    kinds = list(LANGUAGE_WEIGHTS)
    kind = rng.choices(kinds, weights=[LANGUAGE_WEIGHTS[k] for k in kinds])[0]
    if kind == "follow-up":
        return rng.choice(FOLLOW_UPS)
    return (rng.choice(SINGLE_QUESTIONS[kind]),)


def new_sender() -> str:
    """A fresh conversation id: each simulated visitor is a sender of its own."""
    return f"bench-{uuid.uuid4().hex[:16]}"


def reply_failure(status_code: int | None, body: str | None) -> str | None:
    """Why a REST webhook reply is a failure, or None when it is an answer.

    Rasa's REST channel answers 200 `[]` when the turn failed inside Rasa (an action server
    error, a lost action), so a 200 without any bot message counts as a failure too.
    """
    if status_code != 200:
        return f"HTTP {status_code}"
    try:
        messages = json.loads(body or "")
    except ValueError:
        return "reply is not JSON"
    if not isinstance(messages, list):
        return "reply is not a JSON list"
    if not messages:
        return EMPTY_REPLY
    for texts, reason in NOT_ANSWERED:
        if any(isinstance(m, dict) and m.get("text") in texts for m in messages):
            return reason
    return None


def turn_names(conversation: Sequence[str]) -> list[str]:
    """Locust request names: the first question and its follow-ups, reported apart."""
    return ["question" if index == 0 else "follow-up" for index in range(len(conversation))]
