"""What a visitor is told when a turn cannot be answered at all.

The Rasa process says it (ops/rasa_entry.py's fault handling) when the action server is down
or slower than `ACTION_TIMEOUT_S`, when the conversation cannot be read (PostgreSQL down) or
locked (Redis down): an apology in the visitor's language, never Rasa's silent `[]`. The
action server has its own (actions/messages.py) for the event database.
"""

from __future__ import annotations

from bot.lang import Lang, as_lang, language_of

TURN_FAILED: dict[Lang, str] = {
    "zh": "抱歉，系统暂时无法回答，请稍后再试。如需帮助，请向现场服务台咨询。",
    "en": "Sorry, I can't answer right now. Please try again in a moment, "
    "or ask the help desk on site.",
}


def apology(lang: Lang) -> str:
    return TURN_FAILED[lang]


def apology_for(text: str | None, language_slot: object = None) -> str:
    """The apology in the conversation's language (the `language` slot when known, else the
    language of the visitor's message)."""
    return apology(as_lang(language_slot) or language_of(text or ""))


# Too many turns in flight (bot/admission.py): the wait for a place would be too long.
BUSY: dict[Lang, str] = {
    "zh": "现在咨询的人很多，请稍后再发一次您的问题。如需帮助，请向现场服务台咨询。",
    "en": "Many visitors are asking right now. Please send your question again in a moment, "
    "or ask the help desk on site.",
}


def busy_for(text: str | None) -> str:
    """The "busy" reply in the language of the visitor's message (no conversation is read)."""
    return BUSY[language_of(text or "")]


# Over a rate limit (bot/rate_limits.py): said by the channel itself, the message not passed on.
SLOW_DOWN: dict[Lang, str] = {
    "zh": "您发送得太快了，请稍等几秒再试。",
    "en": "You are sending messages too fast — please wait a few seconds and try again.",
}


def slow_down(lang: Lang | None) -> str:
    """The "please slow down" text in the conversation's language; both languages when it
    is not known (a rejected connection or an emoji says nothing about the reader)."""
    if lang is None:
        return f"{SLOW_DOWN['zh']}\n{SLOW_DOWN['en']}"
    return SLOW_DOWN[lang]
