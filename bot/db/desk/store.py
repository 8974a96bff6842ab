"""The help desk's data: staff accounts, the handoff queue and the audit log, in SQL.

Every state change is one transaction with its audit entry, and the changes that two staff
members (or two assistant processes) can race for — opening a handoff, claiming one — are
conditional statements, so the database, not the process, decides who wins.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, delete, func, literal, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.desk.models import (
    ACTIVE_STATUSES,
    CHANNELS,
    CONVERSATION_ID_LEN,
    KEYWORD_PATTERN,
    MAX_LABELS,
    ROLES,
    STAFF_TEXT_CHARS,
    USERNAME_LEN,
    AuditEntry,
    Feedback,
    CannedReply,
    Handoff,
    HandoffLabel,
    LoginAttempt,
    LoginSession,
    Note,
    OutgoingMessage,
    Staff,
    UtcDateTime,
    desk_metadata,
)
from bot.db.engine import autocommit_engine, make_engine, read_retrying_once, writer
from bot.db.schema import schema_state
from bot.lang import Lang

Clock = Callable[[], dt.datetime]
HANDOFF_REASONS = ("asked", "fallback", "button")
# Longest visitor message kept on the queue row (the whole text stays in the transcript).
PREVIEW_CHARS = 500
KEYWORD = re.compile(KEYWORD_PATTERN)

# A conversation's undelivered staff messages, with the conversation as a bound parameter, and
# the check every REST turn makes, built once: an ORM select re-built per call cost more to
# analyse (SQLAlchemy's cache key) than to run.
_outgoing = OutgoingMessage.__table__.c
_PENDING = (
    _outgoing.conversation_id == bindparam("conversation_id"),
    _outgoing.delivered_at.is_(None),
)
_ANY_PENDING = select(_outgoing.id).where(*_PENDING).limit(1)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class DeskError(Exception):
    """A desk operation that cannot be done; the message is for staff or the operator."""


class DeskSchemaError(DeskError):
    """The desk tables exist with other columns: they hold data, so they are never rebuilt."""


class StaffExists(DeskError):
    pass


class UnknownStaff(DeskError):
    pass


class HandoffNotFound(DeskError):
    pass


class HandoffClosed(DeskError):
    pass


class InvalidInput(DeskError):
    """A value staff typed that the desk does not accept (the message says which and why)."""


class CannedExists(DeskError):
    pass


class CannedNotFound(DeskError):
    pass


class AlreadyClaimed(DeskError):
    """Someone else has the conversation; taking it over must be asked for explicitly."""

    def __init__(self, handoff_id: int, assignee: str) -> None:
        super().__init__(f"conversation {handoff_id} is already handled by {assignee}")
        self.handoff_id = handoff_id
        self.assignee = assignee


@dataclass(frozen=True)
class StaffInfo:
    id: int
    username: str
    display_name: str
    role: str
    disabled: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class HandoffInfo:
    id: int
    conversation_id: str
    channel: str
    language: Lang
    status: str
    reason: str
    last_visitor_message: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    assignee_id: int | None
    claimed_at: dt.datetime | None
    closed_at: dt.datetime | None
    outcome: str | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


@dataclass(frozen=True)
class CannedInfo:
    id: int
    shortcut: str
    text_zh: str
    text_en: str
    updated_at: dt.datetime
    updated_by: int


@dataclass(frozen=True)
class NoteInfo:
    id: int
    handoff_id: int
    staff_id: int
    text: str
    created_at: dt.datetime


@dataclass(frozen=True)
class OutgoingInfo:
    text: str
    sender_name: str
    created_at: dt.datetime


@dataclass(frozen=True)
class FeedbackInfo:
    at: dt.datetime
    conversation_id: str
    helpful: bool
    question: str
    answer: str


@dataclass(frozen=True)
class QueueVersion:
    """Changes whenever any handoff changes: the console's live view polls it."""

    latest_update: dt.datetime | None
    count: int

    @property
    def key(self) -> str:
        latest = self.latest_update.isoformat() if self.latest_update else "-"
        return f"{latest}/{self.count}"


@dataclass(frozen=True)
class SessionInfo:
    staff: StaffInfo
    csrf_token: str
    created_at: dt.datetime
    last_seen_at: dt.datetime


@dataclass(frozen=True)
class AuditInfo:
    at: dt.datetime
    staff_id: int | None
    action: str
    target: str
    detail: str


def _as_utc(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def keyword(value: str, what: str) -> str:
    """A shortcut or label, lower-cased; InvalidInput unless it is 1-32 of a-z 0-9 _ -."""
    word = value.strip().lower() if isinstance(value, str) else ""
    if not KEYWORD.fullmatch(word):
        raise InvalidInput(f"{what} must be 1 to 32 of a-z, 0-9, _ and -, not {value!r}")
    return word


def staff_text(value: str, what: str) -> str:
    """A canned reply's or a note's text, trimmed: 1 to STAFF_TEXT_CHARS characters."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > STAFF_TEXT_CHARS:
        raise InvalidInput(f"{what} must be 1 to {STAFF_TEXT_CHARS} characters")
    return text


def _canned_info(row: CannedReply) -> CannedInfo:
    return CannedInfo(
        row.id, row.shortcut, row.text_zh, row.text_en, row.updated_at, row.updated_by
    )


def _note_info(row: Note) -> NoteInfo:
    return NoteInfo(row.id, row.handoff_id, row.staff_id, row.text, row.created_at)


def _staff_info(row: Staff) -> StaffInfo:
    return StaffInfo(row.id, row.username, row.display_name, row.role, row.disabled, row.created_at)


def _handoff_info(row: Handoff) -> HandoffInfo:
    return HandoffInfo(
        row.id,
        row.conversation_id,
        row.channel,
        row.language,  # type: ignore[arg-type]  # constrained to zh/en by the table
        row.status,
        row.reason,
        row.last_visitor_message,
        row.created_at,
        row.updated_at,
        row.assignee_id,
        row.claimed_at,
        row.closed_at,
        row.outcome,
    )


class DeskStore:
    """The desk's reads and writes. Construct with a URL, an Engine, or neither
    (`DATABASE_URL`, else the SQLite file); call `ensure_schema()` once at start-up."""

    def __init__(
        self, url: str | None = None, *, engine: Engine | None = None, now: Clock = utc_now
    ) -> None:
        if url is not None and engine is not None:
            raise ValueError("give a url or an engine, not both")
        self._owns_engine = engine is None
        self._engine = engine or make_engine(url)
        self._writer = writer(self._engine)
        self._single_reads = autocommit_engine(self._engine)  # connects on first use only
        self._now = now

    def dispose(self) -> None:
        if self._single_reads is not self._engine:
            self._single_reads.dispose()
        if self._owns_engine:
            self._engine.dispose()

    def ensure_schema(self) -> None:
        """Creates missing desk tables; refuses tables whose columns differ (never drops)."""
        desk_metadata.create_all(self._engine, checkfirst=True)
        with self._engine.connect() as connection:
            state = schema_state(connection, desk_metadata)
        if state.outdated:
            raise DeskSchemaError(
                f"the desk table {state.outdated[0]} has other columns than this version "
                "expects; it holds staff and queue data, so it is not rebuilt automatically"
            )

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._engine, future=True) as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with Session(self._writer, future=True) as session, session.begin():
            yield session

    # --- staff -------------------------------------------------------------------------

    def add_staff(
        self, username: str, display_name: str, role: str, password_hash: str
    ) -> StaffInfo:
        if role not in ROLES:
            raise DeskError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
        try:
            with self._write() as session:
                row = Staff(
                    username=username,
                    display_name=display_name,
                    role=role,
                    password_hash=password_hash,
                    disabled=False,
                    created_at=self._now(),
                )
                session.add(row)
                session.flush()
                self._audit(session, None, "staff.add", username, f"role={role}")
                return _staff_info(row)
        except IntegrityError as error:
            raise StaffExists(f"a staff account named {username!r} exists already") from error

    def staff(self, username: str) -> StaffInfo | None:
        with self._read() as session:
            row = session.execute(
                select(Staff).where(Staff.username == username)
            ).scalar_one_or_none()
            return _staff_info(row) if row else None

    def password_hash(self, username: str) -> str | None:
        """The stored hash of an enabled account (None: no such account, or disabled)."""
        with self._read() as session:
            return session.execute(
                select(Staff.password_hash).where(
                    Staff.username == username, Staff.disabled.is_(False)
                )
            ).scalar_one_or_none()

    def set_password_hash(self, username: str, password_hash: str) -> None:
        self._update_staff(username, "staff.password", password_hash=password_hash)

    def set_disabled(self, username: str, disabled: bool) -> None:
        action = "staff.disable" if disabled else "staff.enable"
        self._update_staff(username, action, disabled=disabled)
        if disabled:  # a disabled account is logged out everywhere at once
            with self._write() as session:
                staff_ids = select(Staff.id).where(Staff.username == username)
                session.execute(
                    delete(LoginSession)
                    .where(LoginSession.staff_id.in_(staff_ids))
                    .execution_options(synchronize_session=False)
                )

    def _update_staff(self, username: str, action: str, **values: object) -> None:
        with self._write() as session:
            changed = session.execute(
                update(Staff).where(Staff.username == username).values(**values)
            ).rowcount
            if not changed:
                raise UnknownStaff(f"no staff account named {username!r}")
            self._audit(session, None, action, username, "")

    def all_staff(self) -> list[StaffInfo]:
        with self._read() as session:
            rows = session.execute(select(Staff).order_by(Staff.username)).scalars()
            return [_staff_info(row) for row in rows]

    # --- the queue ---------------------------------------------------------------------

    def request_handoff(
        self,
        conversation_id: str,
        channel: str,
        language: Lang,
        reason: str,
        message: str | None,
    ) -> HandoffInfo:
        """The conversation's active handoff, opened now if it has none (asking twice does
        not queue twice); the visitor's latest message is kept for the queue's preview."""
        if channel not in CHANNELS:
            raise DeskError(f"unknown channel {channel!r}")
        if reason not in HANDOFF_REASONS:
            raise DeskError(f"unknown handoff reason {reason!r}")
        if not conversation_id or len(conversation_id) > CONVERSATION_ID_LEN:
            raise DeskError("a conversation id of 1 to 128 characters is needed")
        preview = message[:PREVIEW_CHARS] if message else None
        try:
            return self._open_or_touch(conversation_id, channel, language, reason, preview)
        except IntegrityError:  # another process opened it a moment ago: touch that one
            return self._open_or_touch(conversation_id, channel, language, reason, preview)

    def _open_or_touch(
        self, conversation_id: str, channel: str, language: Lang, reason: str, preview: str | None
    ) -> HandoffInfo:
        now = self._now()
        with self._write() as session:
            row = self._active(session, conversation_id)
            if row is None:
                row = Handoff(
                    conversation_id=conversation_id,
                    channel=channel,
                    language=language,
                    status="waiting",
                    reason=reason,
                    last_visitor_message=preview,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                session.flush()
                self._audit(session, None, "handoff.open", str(row.id), reason)
            else:
                row.last_visitor_message = preview or row.last_visitor_message
                row.updated_at = now
            return _handoff_info(row)

    def active_handoff(self, conversation_id: str) -> HandoffInfo | None:
        with self._read() as session:
            row = self._active(session, conversation_id)
            return _handoff_info(row) if row else None

    def handoff(self, handoff_id: int) -> HandoffInfo | None:
        with self._read() as session:
            row = session.get(Handoff, handoff_id)
            return _handoff_info(row) if row else None

    def queue_position(self, handoff_id: int) -> int | None:
        """1 for the next visitor to be served; None once someone has it (or it is closed)."""
        with self._read() as session:
            row = session.get(Handoff, handoff_id)
            if row is None or row.status != "waiting":
                return None
            ahead = session.execute(
                select(func.count())
                .select_from(Handoff)
                .where(
                    Handoff.status == "waiting",
                    or_(
                        Handoff.created_at < row.created_at,
                        and_(Handoff.created_at == row.created_at, Handoff.id < row.id),
                    ),
                )
            ).scalar_one()
            return int(ahead) + 1

    def handoffs(
        self,
        statuses: tuple[str, ...] = ACTIVE_STATUSES,
        *,
        assignee_id: int | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[HandoffInfo]:
        """Handoffs in these states (of one assignee), the longest-waiting first unless
        `newest_first`."""
        order = (
            (Handoff.updated_at.desc(), Handoff.id.desc())
            if newest_first
            else (
                Handoff.created_at,
                Handoff.id,
            )
        )
        query = select(Handoff).where(Handoff.status.in_(statuses)).order_by(*order)
        if assignee_id is not None:
            query = query.where(Handoff.assignee_id == assignee_id)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as session:
            return [_handoff_info(row) for row in session.execute(query).scalars()]

    def queue_version(self) -> QueueVersion:
        with self._read() as session:
            latest, count = session.execute(
                select(func.max(Handoff.updated_at), func.count()).select_from(Handoff)
            ).one()
            # func.max bypasses the column type: SQLite hands back a naive string or datetime
            return QueueVersion(_as_utc(latest), int(count))

    def changed_since(self, since: dt.datetime) -> list[int]:
        with self._read() as session:
            return list(
                session.execute(select(Handoff.id).where(Handoff.updated_at > since)).scalars()
            )

    def visitor_wrote(self, conversation_id: str, text: str | None) -> HandoffInfo | None:
        """A message that arrived while the conversation waits for or talks to staff: the
        queue's preview and its "changed" time follow it."""
        with self._write() as session:
            row = self._active(session, conversation_id)
            if row is None:
                return None
            if text:
                row.last_visitor_message = text[:PREVIEW_CHARS]
            row.updated_at = self._now()
            return _handoff_info(row)

    def staff_on_duty(self, seen_since: dt.datetime) -> int:
        """Enabled staff with a console session active since `seen_since`."""
        with self._read() as session:
            return int(
                session.execute(
                    select(func.count(func.distinct(LoginSession.staff_id)))
                    .join(Staff, Staff.id == LoginSession.staff_id)
                    .where(LoginSession.last_seen_at >= seen_since, Staff.disabled.is_(False))
                ).scalar_one()
            )

    def record_staff_action(self, handoff_id: int, staff_id: int, action: str, detail: str) -> None:
        """A reply or a return to the bot: audited, and the handoff shows as changed."""
        with self._write() as session:
            row = session.get(Handoff, handoff_id)
            if row is None:
                raise HandoffNotFound(f"no conversation {handoff_id} in the queue")
            row.updated_at = self._now()
            self._audit(session, staff_id, action, str(handoff_id), detail)

    def claim(self, handoff_id: int, staff_id: int, take_over: bool = False) -> HandoffInfo:
        """Makes `staff_id` the conversation's one responder.

        Raises AlreadyClaimed when another staff member has it, unless `take_over`.
        """
        now = self._now()
        with self._write() as session:
            free = or_(Handoff.assignee_id.is_(None), Handoff.assignee_id == staff_id)
            condition = [Handoff.id == handoff_id, Handoff.status.in_(ACTIVE_STATUSES)]
            if not take_over:
                condition.append(free)
            claimed = session.execute(
                update(Handoff)
                .where(*condition)
                # claimed_at keeps the first pick-up: the visitor's wait ended then, not at a
                # take-over
                .values(
                    status="open",
                    assignee_id=staff_id,
                    claimed_at=func.coalesce(Handoff.claimed_at, literal(now, UtcDateTime())),
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            row = session.get(Handoff, handoff_id)
            if row is None:
                raise HandoffNotFound(f"no conversation {handoff_id} in the queue")
            if not claimed:
                if row.status == "closed":
                    raise HandoffClosed(f"conversation {handoff_id} is closed")
                holder = session.get(Staff, row.assignee_id) if row.assignee_id else None
                raise AlreadyClaimed(handoff_id, holder.display_name if holder else "someone")
            session.refresh(row)
            action = "handoff.take_over" if take_over else "handoff.claim"
            self._audit(session, staff_id, action, str(handoff_id), "")
            return _handoff_info(row)

    def close(self, handoff_id: int, staff_id: int | None, outcome: str) -> HandoffInfo:
        """Ends the handoff; outcome "returned" means the bot answers again."""
        outcome = outcome.strip()[:32]
        if not outcome:
            raise DeskError("closing needs an outcome")
        now = self._now()
        with self._write() as session:
            row = session.get(Handoff, handoff_id)
            if row is None:
                raise HandoffNotFound(f"no conversation {handoff_id} in the queue")
            if row.status == "closed":
                raise HandoffClosed(f"conversation {handoff_id} is closed")
            row.status, row.outcome, row.closed_at, row.updated_at = "closed", outcome, now, now
            self._audit(session, staff_id, "handoff.close", str(handoff_id), outcome)
            return _handoff_info(row)

    # --- private notes and labels --------------------------------------------------------

    def add_note(self, handoff_id: int, staff_id: int, text: str) -> NoteInfo:
        """Any staff member may note any conversation, held by them or not, open or closed."""
        text = staff_text(text, "a note")
        with self._write() as session:
            self._annotated(session, handoff_id)
            row = Note(handoff_id=handoff_id, staff_id=staff_id, text=text, created_at=self._now())
            session.add(row)
            session.flush()
            self._audit(session, staff_id, "handoff.note", str(handoff_id), f"note={row.id}")
            return _note_info(row)

    def notes(self, handoff_id: int) -> list[NoteInfo]:
        """The conversation's notes, oldest first."""
        with self._read() as session:
            rows = session.execute(
                select(Note).where(Note.handoff_id == handoff_id).order_by(Note.created_at, Note.id)
            ).scalars()
            return [_note_info(row) for row in rows]

    def set_labels(self, handoff_id: int, staff_id: int, labels: Iterable[str]) -> list[str]:
        """Replaces the conversation's labels (lower-cased, duplicates dropped); sorted."""
        if isinstance(labels, str):  # a string is iterable too: "vip" is not v, i and p
            raise InvalidInput("labels must be a list of words")
        wanted = sorted({keyword(label, "a label") for label in labels})
        if len(wanted) > MAX_LABELS:
            raise InvalidInput(f"at most {MAX_LABELS} labels per conversation")
        with self._write() as session:
            self._annotated(session, handoff_id)
            where = HandoffLabel.handoff_id == handoff_id
            current = sorted(session.execute(select(HandoffLabel.label).where(where)).scalars())
            if current == wanted:
                return wanted
            session.execute(delete(HandoffLabel).where(where))
            session.add_all(HandoffLabel(handoff_id=handoff_id, label=label) for label in wanted)
            self._audit(session, staff_id, "handoff.labels", str(handoff_id), ",".join(wanted))
            return wanted

    def labels(self, handoff_ids: Iterable[int]) -> dict[int, list[str]]:
        """The labels of these handoffs in one query (the queue lists many), each sorted."""
        ids = list(set(handoff_ids))
        found: dict[int, list[str]] = {handoff_id: [] for handoff_id in ids}
        if not ids:
            return found
        with self._read() as session:
            rows = session.execute(
                select(HandoffLabel.handoff_id, HandoffLabel.label)
                .where(HandoffLabel.handoff_id.in_(ids))
                .order_by(HandoffLabel.label)
            )
            for handoff_id, label in rows:
                found[handoff_id].append(label)
        return found

    def _annotated(self, session: Session, handoff_id: int) -> Handoff:
        """The handoff a note or label goes on. An active one shows as changed (other consoles
        reload it); a closed one keeps its time, which orders the closed list."""
        row = session.get(Handoff, handoff_id)
        if row is None:
            raise HandoffNotFound(f"no conversation {handoff_id} in the queue")
        if row.status in ACTIVE_STATUSES:
            row.updated_at = self._now()
        return row

    # --- canned replies ------------------------------------------------------------------

    def canned_replies(self) -> list[CannedInfo]:
        """Every canned reply, by shortcut."""
        with self._read() as session:
            rows = session.execute(select(CannedReply).order_by(CannedReply.shortcut)).scalars()
            return [_canned_info(row) for row in rows]

    def add_canned(self, shortcut: str, text_zh: str, text_en: str, staff_id: int) -> CannedInfo:
        """A new canned reply; CannedExists when the shortcut is taken."""
        values = self._canned_values(shortcut, text_zh, text_en, staff_id)
        try:
            with self._write() as session:
                row = CannedReply(**values)
                session.add(row)
                session.flush()
                self._audit(session, staff_id, "canned.add", values["shortcut"], f"id={row.id}")
                return _canned_info(row)
        except IntegrityError as error:  # the unique shortcut: decided by the database
            raise CannedExists(f"the shortcut {values['shortcut']!r} is taken") from error

    def update_canned(
        self, canned_id: int, shortcut: str, text_zh: str, text_en: str, staff_id: int
    ) -> CannedInfo:
        values = self._canned_values(shortcut, text_zh, text_en, staff_id)
        try:
            with self._write() as session:
                row = session.get(CannedReply, canned_id)
                if row is None:
                    raise CannedNotFound(f"no canned reply {canned_id}")
                before = row.shortcut
                for name, value in values.items():
                    setattr(row, name, value)
                session.flush()
                detail = f"id={canned_id}" + (f" was={before}" if before != row.shortcut else "")
                self._audit(session, staff_id, "canned.update", row.shortcut, detail)
                return _canned_info(row)
        except IntegrityError as error:
            raise CannedExists(f"the shortcut {values['shortcut']!r} is taken") from error

    def delete_canned(self, canned_id: int, staff_id: int) -> None:
        with self._write() as session:
            row = session.get(CannedReply, canned_id)
            if row is None:
                raise CannedNotFound(f"no canned reply {canned_id}")
            session.delete(row)
            self._audit(session, staff_id, "canned.delete", row.shortcut, f"id={canned_id}")

    def _canned_values(
        self, shortcut: str, text_zh: str, text_en: str, staff_id: int
    ) -> dict[str, object]:
        return {
            "shortcut": keyword(shortcut, "the shortcut"),
            "text_zh": staff_text(text_zh, "the Chinese text"),
            "text_en": staff_text(text_en, "the English text"),
            "updated_at": self._now(),
            "updated_by": staff_id,
        }

    # --- the REST outbox -----------------------------------------------------------------

    def queue_outgoing(self, conversation_id: str, text: str, sender_name: str) -> None:
        with self._write() as session:
            session.add(
                OutgoingMessage(
                    conversation_id=conversation_id,
                    text=text,
                    sender_name=sender_name[:USERNAME_LEN],
                    created_at=self._now(),
                )
            )

    def take_outgoing(self, conversation_id: str) -> list[OutgoingInfo]:
        """The conversation's undelivered staff messages, oldest first, now marked delivered.
        (Called on every REST turn: a read, and a write only when something waits.)"""
        conversation = {"conversation_id": conversation_id}
        waiting = read_retrying_once(
            self._single_reads, lambda db: db.execute(_ANY_PENDING, conversation).first()
        )
        if waiting is None:
            return []
        with self._write() as session:
            pending = select(OutgoingMessage).where(*_PENDING).order_by(OutgoingMessage.id)
            rows = list(session.execute(pending, conversation).scalars())
            taken = []
            for row in rows:  # conditional, so two overlapping requests never both get one
                marked = session.execute(
                    update(OutgoingMessage)
                    .where(OutgoingMessage.id == row.id, OutgoingMessage.delivered_at.is_(None))
                    .values(delivered_at=self._now())
                    .execution_options(synchronize_session=False)
                ).rowcount
                if marked:
                    taken.append(OutgoingInfo(row.text, row.sender_name, row.created_at))
            return taken

    # --- console sessions and login attempts ---------------------------------------------

    def add_session(self, token_hash: str, staff_id: int, csrf_token: str) -> None:
        now = self._now()
        with self._write() as session:
            session.add(
                LoginSession(
                    token_hash=token_hash,
                    staff_id=staff_id,
                    csrf_token=csrf_token,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            self._audit(session, staff_id, "session.login", "", "")

    def session(self, token_hash: str) -> SessionInfo | None:
        """The session of an enabled staff member (expiry is the caller's policy)."""
        with self._read() as session:
            row = session.execute(
                select(LoginSession, Staff)
                .join(Staff, Staff.id == LoginSession.staff_id)
                .where(LoginSession.token_hash == token_hash, Staff.disabled.is_(False))
            ).one_or_none()
            if row is None:
                return None
            login, staff = row
            return SessionInfo(
                _staff_info(staff), login.csrf_token, login.created_at, login.last_seen_at
            )

    def touch_session(self, token_hash: str) -> None:
        with self._write() as session:
            session.execute(
                update(LoginSession)
                .where(LoginSession.token_hash == token_hash)
                .values(last_seen_at=self._now())
            )

    def end_session(self, token_hash: str, staff_id: int | None, reason: str) -> None:
        with self._write() as session:
            session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash))
            self._audit(session, staff_id, "session.end", "", reason)

    def record_login_attempt(self, username: str, client: str, succeeded: bool) -> None:
        with self._write() as session:
            session.add(
                LoginAttempt(
                    at=self._now(),
                    username=username[:USERNAME_LEN],
                    client=client[:64],
                    succeeded=succeeded,
                )
            )

    def failed_logins_since(
        self, since: dt.datetime, *, username: str | None = None, client: str | None = None
    ) -> int:
        """Failed attempts since `since` for a name or a client; for a name, only those after
        its last successful login count."""
        with self._read() as session:
            where = [LoginAttempt.at >= since]
            if username is not None:
                where.append(LoginAttempt.username == username[:USERNAME_LEN])
                last_success = session.execute(
                    select(func.max(LoginAttempt.at)).where(
                        LoginAttempt.username == username[:USERNAME_LEN],
                        LoginAttempt.succeeded.is_(True),
                    )
                ).scalar_one_or_none()
                if last_success is not None:
                    where.append(LoginAttempt.at > last_success)
            if client is not None:
                where.append(LoginAttempt.client == client[:64])
            return int(
                session.execute(
                    select(func.count())
                    .select_from(LoginAttempt)
                    .where(LoginAttempt.succeeded.is_(False), *where)
                ).scalar_one()
            )

    # --- visitors' feedback and the desk's figures ----------------------------------------

    def add_feedback(self, conversation_id: str, helpful: bool, question: str, answer: str) -> None:
        with self._write() as session:
            session.add(
                Feedback(
                    at=self._now(),
                    conversation_id=conversation_id[:CONVERSATION_ID_LEN],
                    helpful=helpful,
                    question=question[:PREVIEW_CHARS],
                    answer=answer[:PREVIEW_CHARS],
                )
            )

    def feedback_since(self, since: dt.datetime) -> list[FeedbackInfo]:
        with self._read() as session:
            rows = session.execute(
                select(Feedback).where(Feedback.at >= since).order_by(Feedback.id)
            ).scalars()
            return [
                FeedbackInfo(r.at, r.conversation_id, r.helpful, r.question, r.answer) for r in rows
            ]

    def wait_times_s(self, since: dt.datetime) -> list[float]:
        """Seconds from the request to a person taking it, for handoffs claimed since."""
        with self._read() as session:
            rows = session.execute(
                select(Handoff.created_at, Handoff.claimed_at).where(Handoff.claimed_at >= since)
            )
            return [(claimed - created).total_seconds() for created, claimed in rows]

    # --- audit -------------------------------------------------------------------------

    def audit_log(self, limit: int = 100) -> list[AuditInfo]:
        """The latest entries, newest first."""
        with self._read() as session:
            rows = session.execute(
                select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            ).scalars()
            return [AuditInfo(r.at, r.staff_id, r.action, r.target, r.detail) for r in rows]

    def _audit(
        self, session: Session, staff_id: int | None, action: str, target: str, detail: str
    ) -> None:
        session.add(
            AuditEntry(
                at=self._now(),
                staff_id=staff_id,
                action=action,
                target=target[:255],
                detail=detail,
            )
        )

    @staticmethod
    def _active(session: Session, conversation_id: str) -> Handoff | None:
        return session.execute(
            select(Handoff)
            .where(
                Handoff.conversation_id == conversation_id,
                Handoff.status.in_(ACTIVE_STATUSES),
            )
            .order_by(Handoff.id.desc())
            .limit(1)
        ).scalar_one_or_none()


@lru_cache(maxsize=1)
def shared_desk_store() -> DeskStore:
    """The process's one DeskStore (one connection pool) on `DATABASE_URL`, tables ensured:
    the channels, the console, the tracker store and the actions all use it."""
    store = DeskStore()
    store.ensure_schema()
    return store
