"""A conversation as staff read it, from the tracker's events (Rasa's own serialisation).

Visitor messages carry what the NLU made of them (intent and confidence), so staff see where the
bot went wrong; staff replies are bot events marked with `STAFF_KEY` in their metadata.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

STAFF_KEY = "desk_staff"  # BotUttered.metadata[STAFF_KEY]: the display name of who wrote it
PARTS_KEY = "desk_parts"  # ...and how many channel messages the reply took (WeChat's quota)
# WeChat lets an account send customer-service messages for 48 hours after a visitor's message,
# at most 5 per visitor message (errcodes 45015 and 45047 when exceeded).
WECHAT_WINDOW = dt.timedelta(hours=48)
WECHAT_QUOTA = 5


@dataclass(frozen=True)
class Entry:
    kind: str  # visitor | bot | staff | system
    text: str
    at: dt.datetime
    intent: str | None = None
    confidence: float | None = None
    staff: str | None = None
    parts: int = 1

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "text": self.text, "at": self.at.isoformat()}
        if self.intent is not None:
            data |= {"intent": self.intent, "confidence": self.confidence}
        if self.staff is not None:
            data["staff"] = self.staff
        return data


def _at(event: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(event.get("timestamp") or 0), dt.timezone.utc)


def _entry(event: dict[str, Any]) -> Entry | None:
    kind = event.get("event")
    if kind == "user":
        intent = (event.get("parse_data") or {}).get("intent") or {}
        confidence = intent.get("confidence")
        return Entry(
            "visitor",
            event.get("text") or "",
            _at(event),
            intent.get("name"),
            round(float(confidence), 3) if confidence is not None else None,
        )
    if kind == "bot" and event.get("text"):
        metadata = event.get("metadata") or {}
        staff = metadata.get(STAFF_KEY)
        parts = metadata.get(PARTS_KEY)
        return Entry(
            "staff" if staff else "bot",
            event["text"],
            _at(event),
            staff=staff,
            parts=parts if isinstance(parts, int) and parts > 0 else 1,
        )
    if kind in ("pause", "resume"):
        return Entry("system", "handoff" if kind == "pause" else "resumed", _at(event))
    return None


def transcript(events: Iterable[dict[str, Any]]) -> list[Entry]:
    """The conversation's messages and handoffs, oldest first (actions and slots left out)."""
    return [entry for entry in map(_entry, events) if entry is not None]


@dataclass(frozen=True)
class WeChatAllowance:
    window_ends_at: dt.datetime | None
    quota_left: int

    def allows(self, moment: dt.datetime) -> bool:
        return (
            self.window_ends_at is not None and moment < self.window_ends_at and self.quota_left > 0
        )

    def as_json(self) -> dict[str, Any]:
        ends = self.window_ends_at.isoformat() if self.window_ends_at else None
        return {"window_ends_at": ends, "quota_left": self.quota_left}


def wechat_allowance(entries: list[Entry]) -> WeChatAllowance:
    """What WeChat still lets staff send: counted from the visitor's latest message."""
    last_visitor = max((i for i, e in enumerate(entries) if e.kind == "visitor"), default=None)
    if last_visitor is None:
        return WeChatAllowance(None, 0)
    sent = sum(e.parts for e in entries[last_visitor + 1 :] if e.kind == "staff")
    ends = entries[last_visitor].at + WECHAT_WINDOW
    return WeChatAllowance(ends, max(0, WECHAT_QUOTA - sent))
