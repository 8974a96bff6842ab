"""The help desk's tables: staff accounts, the handoff queue (with staff's private notes and
labels), canned replies, the REST outbox and the audit log.

They live in the database `DATABASE_URL` names, beside the event tables, but under a MetaData
of their own: a seed load rebuilds the event tables and must never touch these, which hold
what staff and visitors did. Times are UTC (timezone-aware in Python, naive in SQLite).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, declarative_base

from bot.db.types import UtcDateTime

DeskBase = declarative_base()
desk_metadata = DeskBase.metadata

ROLES: Final = ("agent", "editor", "admin")
# waiting: in the queue, no one has it; open: a staff member has claimed it; closed: done
# (returned to the bot or closed with an outcome).
HANDOFF_STATUSES: Final = ("waiting", "open", "closed")
ACTIVE_STATUSES: Final = ("waiting", "open")
ACTIVE_WHERE: Final = "status IN ('waiting', 'open')"
CHANNELS: Final = ("rest", "webchat", "wechat")
USERNAME_LEN: Final = 64
CONVERSATION_ID_LEN: Final = 128
# Canned-reply shortcuts ("hours") and handoff labels ("lost_item"): short, URL- and
# typing-friendly words, so staff can type "/hours" in the reply box.
KEYWORD_PATTERN: Final = r"[a-z0-9_-]{1,32}"
KEYWORD_LEN: Final = 32
STAFF_TEXT_CHARS: Final = 2000  # a canned reply (each language) or a private note
MAX_LABELS: Final = 10  # per handoff


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Staff(DeskBase):
    __tablename__ = "desk_staff"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="ck_desk_staff_role"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    username: Mapped[str] = Column(String(USERNAME_LEN), nullable=False, unique=True)
    display_name: Mapped[str] = Column(String(USERNAME_LEN), nullable=False)
    role: Mapped[str] = Column(String(16), nullable=False)
    # argon2id, in the library's own encoded form (algorithm, parameters, salt and hash)
    password_hash: Mapped[str] = Column(String(255), nullable=False)
    disabled: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime(), nullable=False)


class Handoff(DeskBase):
    """One visitor's request for a person, from the request until it is closed."""

    __tablename__ = "desk_handoffs"
    __table_args__ = (
        CheckConstraint(_in("status", HANDOFF_STATUSES), name="ck_desk_handoff_status"),
        CheckConstraint(_in("channel", CHANNELS), name="ck_desk_handoff_channel"),
        CheckConstraint("language IN ('zh', 'en')", name="ck_desk_handoff_language"),
        # at most one active handoff per conversation, even when two processes race
        Index(
            "ux_desk_handoffs_active",
            "conversation_id",
            unique=True,
            sqlite_where=text(ACTIVE_WHERE),
            postgresql_where=text(ACTIVE_WHERE),
        ),
        Index("ix_desk_handoffs_status", "status", "created_at"),
        Index("ix_desk_handoffs_updated", "updated_at"),  # the console's "what changed" poll
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(CONVERSATION_ID_LEN), nullable=False)
    channel: Mapped[str] = Column(String(16), nullable=False)
    language: Mapped[str] = Column(String(2), nullable=False)
    status: Mapped[str] = Column(String(16), nullable=False, default="waiting")
    # what made the bot hand over: "asked" (the visitor asked for a person), "fallback"
    # (a second failed clarification), "button" (the Talk-to-staff button)
    reason: Mapped[str] = Column(String(16), nullable=False)
    last_visitor_message: Mapped[str | None] = Column(Text)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime(), nullable=False)
    updated_at: Mapped[dt.datetime] = Column(UtcDateTime(), nullable=False)
    assignee_id: Mapped[int | None] = Column(Integer, ForeignKey("desk_staff.id"))
    claimed_at: Mapped[dt.datetime | None] = Column(UtcDateTime())
    closed_at: Mapped[dt.datetime | None] = Column(UtcDateTime())
    # how it ended: "returned" (to the bot), or the outcome staff chose when closing
    outcome: Mapped[str | None] = Column(String(32))


class AuditEntry(DeskBase):
    """Who did what and when: every state change made by staff or by the desk itself."""

    __tablename__ = "desk_audit_log"

    id: Mapped[int] = Column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = Column(UtcDateTime(), nullable=False)
    staff_id: Mapped[int | None] = Column(Integer, ForeignKey("desk_staff.id"))
    action: Mapped[str] = Column(String(32), nullable=False)
    target: Mapped[str] = Column(String(255), nullable=False, default="")
    detail: Mapped[str] = Column(Text, nullable=False, default="")


class OutgoingMessage(DeskBase):
    """A staff reply waiting for a channel that cannot be pushed to (REST: the client's next
    request collects it)."""

    __tablename__ = "desk_outbox"
    __table_args__ = (Index("ix_desk_outbox_pending", "conversation_id", "delivered_at"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(CONVERSATION_ID_LEN), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)
    sender_name: Mapped[str] = Column(String(USERNAME_LEN), nullable=False)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime(), nullable=False)
    delivered_at: Mapped[dt.datetime | None] = Column(UtcDateTime())


class CannedReply(DeskBase):
    """A prepared answer staff insert into the reply box (and may edit before sending)."""

    __tablename__ = "desk_canned_replies"

    id: Mapped[int] = Column(Integer, primary_key=True)
    shortcut: Mapped[str] = Column(String(KEYWORD_LEN), nullable=False, unique=True)
    text_zh: Mapped[str] = Column(Text, nullable=False)
    text_en: Mapped[str] = Column(Text, nullable=False)
    updated_at: Mapped[dt.datetime] = Column(UtcDateTime(), nullable=False)
    updated_by: Mapped[int] = Column(Integer, ForeignKey("desk_staff.id"), nullable=False)


class Note(DeskBase):
    """A private note staff leave on a conversation: never sent to the visitor."""

    __tablename__ = "desk_notes"
    __table_args__ = (Index("ix_desk_notes_handoff", "handoff_id", "created_at"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    handoff_id: Mapped[int] = Column(Integer, ForeignKey("desk_handoffs.id"), nullable=False)
    staff_id: Mapped[int] = Column(Integer, ForeignKey("desk_staff.id"), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime(), nullable=False)


class HandoffLabel(DeskBase):
    """One label on a handoff (at most MAX_LABELS each), for sorting the queue by topic."""

    __tablename__ = "desk_handoff_labels"

    handoff_id: Mapped[int] = Column(Integer, ForeignKey("desk_handoffs.id"), primary_key=True)
    label: Mapped[str] = Column(String(KEYWORD_LEN), primary_key=True)


class LoginSession(DeskBase):
    """A staff member's console session; the cookie's token is stored only as its SHA-256."""

    __tablename__ = "desk_sessions"

    token_hash: Mapped[str] = Column(String(64), primary_key=True)
    staff_id: Mapped[int] = Column(Integer, ForeignKey("desk_staff.id"), nullable=False)
    csrf_token: Mapped[str] = Column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime(), nullable=False)
    last_seen_at: Mapped[dt.datetime] = Column(UtcDateTime(), nullable=False)


class LoginAttempt(DeskBase):
    """Every login attempt, for lock-out and throttling that hold across instances."""

    __tablename__ = "desk_login_attempts"
    __table_args__ = (
        Index("ix_desk_login_attempts_username", "username", "at"),
        Index("ix_desk_login_attempts_client", "client", "at"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = Column(UtcDateTime(), nullable=False)
    username: Mapped[str] = Column(String(USERNAME_LEN), nullable=False)
    client: Mapped[str] = Column(String(64), nullable=False)  # the client's IP address
    succeeded: Mapped[bool] = Column(Boolean, nullable=False)


class Feedback(DeskBase):
    """A visitor's 👍/👎 on a bot answer in the widget, for the unanswered-questions report."""

    __tablename__ = "desk_feedback"
    __table_args__ = (Index("ix_desk_feedback_at", "at"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = Column(UtcDateTime(), nullable=False)
    conversation_id: Mapped[str] = Column(String(CONVERSATION_ID_LEN), nullable=False)
    helpful: Mapped[bool] = Column(Boolean, nullable=False)
    question: Mapped[str] = Column(Text, nullable=False, default="")
    answer: Mapped[str] = Column(Text, nullable=False, default="")
