"""Rasa's responses as WeChat text: one message, numbered options, within WeChat's size limit.

WeChat accepts a single passive reply per push and has no buttons for Official Account text,
so the bot's several messages are joined, buttons become "1. 日程" lines, and a reply of "1" is
turned back into that payload. The options are read back from the conversation's tracker (the
bot's last answer), not remembered by the instance that numbered them: the follower's "1" may
reach another instance.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.events import BotUttered, UserUttered

TRUNCATION_MARK = "\n…"
_CHOICE = re.compile(r"[0-9]{1,2}")


@dataclass(frozen=True)
class Option:
    title: str
    payload: str


@dataclass(frozen=True)
class WeChatText:
    """What the follower gets for one message: the text and the options it offers."""

    text: str
    options: tuple[Option, ...] = field(default=())


def render(messages: Iterable[Mapping[str, Any]]) -> WeChatText:
    """Join Rasa's collected messages; buttons are numbered across the whole answer."""
    parts: list[str] = []
    options: list[Option] = []
    for message in messages:
        lines = [_content_of(message)]
        for button in message.get("buttons") or message.get("quick_replies") or []:
            option = _option(button)
            if option is not None:
                options.append(option)
                lines.append(f"{len(options)}. {option.title}")
        part = "\n".join(line for line in lines if line)
        if part:
            parts.append(part)
    return WeChatText("\n\n".join(parts), tuple(options))


def _content_of(message: Mapping[str, Any]) -> str:
    """Text, or the link of an image or attachment (WeChat text cannot embed either)."""
    for key in ("text", "image", "attachment"):
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _option(button: Any) -> Option | None:
    if not isinstance(button, Mapping):
        return None
    title = str(button.get("title") or "").strip()
    payload = str(button.get("payload") or title).strip()
    return Option(title, payload) if title and payload else None


def choice_number(text: str) -> int | None:
    """N when the follower answered just "N" (full-width digits and a trailing 。 too)."""
    choice = unicodedata.normalize("NFKC", text).strip().rstrip(".。、")
    return int(choice) if _CHOICE.fullmatch(choice) else None


def chosen_payload(text: str, options: Sequence[Option]) -> str | None:
    """The payload of option N when the follower answered just "N"."""
    index = choice_number(text)
    if index is None:
        return None
    return options[index - 1].payload if 1 <= index <= len(options) else None


def last_answer_options(events: Sequence[Any], now: float, max_age_s: float) -> tuple[Option, ...]:
    """The numbered options of the bot's answer since the follower's last message, as
    `render` numbered them; none when that answer is older than `max_age_s`."""
    newest_first = _bot_answer(reversed(events))
    if not newest_first or now - newest_first[0].timestamp > max_age_s:
        return ()
    return _rendered(reversed(newest_first)).options


def stored_answer(events: Sequence[Any], message_id: str) -> WeChatText | None:
    """The bot's stored answer to the follower's message `message_id`, as `render` gave it;
    None when the conversation does not hold that message."""
    for index, event in enumerate(events):
        if isinstance(event, UserUttered) and event.message_id == message_id:
            return _rendered(_bot_answer(events[index + 1 :]))
    return None


def _bot_answer(events: Iterable[Any]) -> list[BotUttered]:
    """The bot's messages among `events` up to the follower's next message."""
    answer = itertools.takewhile(lambda event: not isinstance(event, UserUttered), events)
    return [event for event in answer if isinstance(event, BotUttered)]


def _rendered(answer: Iterable[BotUttered]) -> WeChatText:
    return render({"text": bot.text, **(bot.data or {})} for bot in answer)


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def split_text(text: str, limit_bytes: int) -> list[str]:
    """Pieces of at most `limit_bytes` UTF-8 bytes, cut at line ends where possible,
    for delivery as several customer-service messages with nothing lost."""
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, limit_bytes):
        if current and utf8_size(current + piece) > limit_bytes:
            chunks.append(current)
            current = ""
        current += piece
    chunks.append(current)
    return [chunk.strip("\n") for chunk in chunks if chunk.strip()]


def _pieces(text: str, limit_bytes: int) -> Iterable[str]:
    """Lines, with a line too long for one message cut at a character boundary."""
    for line in text.splitlines(keepends=True):
        while utf8_size(line) > limit_bytes:
            head = line.encode("utf-8")[:limit_bytes].decode("utf-8", "ignore")
            yield head
            line = line[len(head) :]
        yield line


def truncate_text(text: str, limit_bytes: int) -> str:
    """`text` if it fits, else its first piece and a mark that something was cut."""
    if utf8_size(text) <= limit_bytes:
        return text
    head = split_text(text, limit_bytes - utf8_size(TRUNCATION_MARK))
    return (head[0] if head else "") + TRUNCATION_MARK
