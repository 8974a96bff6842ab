"""Answers made of key facts about the week: one intent -> the facts that answer it.

Shared by the recruitment, expo, forum and week modules so that a fact is rendered, and an
unconfirmed one withheld, the same way everywhere.
"""

from __future__ import annotations

from bot.lang import Lang
from actions import messages
from actions.common import Answer, DatabaseAction, Request
from bot.db import FactInfo


def render_fact(fact: FactInfo, lang: Lang) -> str:
    """A confirmed fact is stated; an unconfirmed one only as "not announced yet"."""
    if fact.confirmed:
        return fact.text(lang)
    return messages.not_announced(fact.subject(lang), lang)


def answer_from_facts(request: Request, fact_keys: tuple[str, ...], topic: str) -> Answer:
    facts = [request.db.fact(key) for key in fact_keys]
    known = [fact for fact in facts if fact is not None]
    if not known:
        subject = "这方面的信息" if request.lang == "zh" else "Information on this"
        return Answer(messages.not_announced(subject, request.lang), topic)
    text = "\n".join(render_fact(fact, request.lang) for fact in known)
    return Answer(text, topic)


class FactAction(DatabaseAction):
    """An action whose intents are each answered by a fixed list of facts."""

    topic: str = ""
    facts_by_intent: dict[str, tuple[str, ...]] = {}
    default_intent: str = ""

    def answer(self, request: Request) -> Answer:
        keys = self.facts_by_intent.get(request.intent) or self.facts_by_intent[self.default_intent]
        return answer_from_facts(request, keys, self.topic)
