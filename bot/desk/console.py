"""The staff console: a Rasa input channel serving the console page and its JSON API.

It runs inside the assistant's process (credentials.yml names it), so it reads transcripts from
Rasa's tracker store and appends staff replies and returns-to-bot to them under Rasa's lock
store, exactly as Rasa's own `/conversations/<id>/tracker/events` endpoint does. Replies reach
the visitor through the channel's registered delivery (bot/channels/delivery.py). The API is
documented in docs/desk-console-api.md; every call checks the session, the role and (for
changes) the CSRF token on the server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import asdict
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Awaitable, TypeVar

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed, Event
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.delivery import DeliveryFailed, delivery_for
from bot.db import EventDB
from bot.db.edits import (
    KINDS as FACT_KINDS,
)
from bot.db.edits import (
    ChangeInfo,
    EditableRecord,
    EditConflict,
    FactEditError,
    FactEditor,
    UnknownRecord,
)
from bot.db.desk import (
    AlreadyClaimed,
    CannedExists,
    CannedInfo,
    CannedNotFound,
    DeskStore,
    HandoffClosed,
    HandoffInfo,
    HandoffNotFound,
    InvalidInput,
    NoteInfo,
    SessionInfo,
    StaffInfo,
    shared_desk_store,
)
from bot.db.desk.models import ACTIVE_STATUSES, STAFF_TEXT_CHARS
from bot.db.desk.store import utc_now
from bot.desk.auth import (
    PERMISSIONS,
    SESSION_LIFETIME,
    Authenticator,
    LoginRefused,
    allowed,
    csrf_ok,
)
from bot.db.desk.conversations import ConversationLog
from bot.db.desk.models import CONVERSATION_ID_LEN
from bot.desk.reports import dashboard_report, unanswered_csv, unanswered_report
from bot.desk.ask import MAX_QUESTION_CHARS, ask_bot, with_records
from bot.desk.transcript import PARTS_KEY, STAFF_KEY, Entry, transcript, wechat_allowance
from bot.lang import Lang

logger = logging.getLogger(__name__)
T = TypeVar("T")

WEB_DIR = Path(__file__).resolve().parent / "web"
STATIC_FILES = {name: WEB_DIR / name for name in ("console.js", "console.css")}
COOKIE = "cyberweek_desk"
COOKIE_PATH = "/webhooks/desk"
MAX_BODY_BYTES = 16 * 1024
MAX_REPLY_CHARS = 2000
OUTCOMES = ("resolved", "no_answer", "spam", "left")
VIEWS = {"waiting": ("waiting",), "mine": ACTIVE_STATUSES, "open": ACTIVE_STATUSES}
CLOSED_SHOWN = 200
STREAM_POLL_S = 1.0
STREAM_HEARTBEAT_S = 15.0
STREAM_RECHECK_S = 30.0  # a disabled account or an ended session stops its stream this soon
STREAM_LIFETIME_S = 600.0  # EventSource reconnects by itself; bounds a forgotten connection
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors "
    "'none'; base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

RETURNED: dict[Lang, str] = {
    "zh": "工作人员已将对话交还智能助手。您可以继续向我提问日程、场馆、主题日等问题；"
    "如需再次联系工作人员，请输入“转人工”。",
    "en": "Staff have handed this chat back to me, the assistant. Ask me about the schedule, "
    "venues, theme days and more; type “talk to a human” to reach staff again.",
}
CLOSED: dict[Lang, str] = {
    "zh": "本次人工服务已结束，感谢您的耐心。您可以继续向智能助手提问；如需再次联系工作人员，"
    "请输入“转人工”。",
    "en": "Your conversation with staff has ended. Thank you for your patience. You can keep "
    "asking me, the assistant; type “talk to a human” to reach staff again.",
}


# What the console's own check of WeChat's limits tells staff (WeChat would answer the same).
WECHAT_LIMITS = {
    45015: "more than 48 hours since the visitor's last message: WeChat no longer delivers "
    "replies until they write again",
    45047: "5 messages sent since the visitor's last message: WeChat delivers no more until "
    "they write again",
}


class ApiError(Exception):
    def __init__(self, status: int, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.status = status
        self.body = {"error": error, **extra}


async def _db(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The desk's SQL is synchronous: keep it off the server's event loop."""
    return await asyncio.to_thread(function, *args, **kwargs)


def _json_body(request: Request) -> dict[str, Any]:
    if len(request.body or b"") > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise ApiError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def _text_field(body: dict[str, Any], name: str, max_chars: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f'"{name}" must be a non-empty string')
    if len(value) > max_chars:
        raise ApiError(400, f'"{name}" is longer than {max_chars} characters')
    return value.strip()


def _int_arg(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _over_https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.scheme == "https" or forwarded.split(",")[0].strip() == "https"


def _client(request: Request) -> str:
    return (request.remote_addr or request.ip or "unknown")[:64]


def staff_json(staff: StaffInfo) -> dict[str, str]:
    return {"username": staff.username, "display_name": staff.display_name, "role": staff.role}


def _staff_ref(staff: StaffInfo | None) -> dict[str, str] | None:
    return {"username": staff.username, "display_name": staff.display_name} if staff else None


def note_json(note: NoteInfo, names: dict[int, StaffInfo]) -> dict[str, Any]:
    author = names.get(note.staff_id)
    staff = author.display_name if author else None
    return {"id": note.id, "staff": staff, "text": note.text, "at": note.created_at.isoformat()}


def canned_json(canned: CannedInfo, names: dict[int, StaffInfo]) -> dict[str, Any]:
    return {
        "id": canned.id,
        "shortcut": canned.shortcut,
        "text_zh": canned.text_zh,
        "text_en": canned.text_en,
        "updated_at": canned.updated_at.isoformat(),
        "updated_by": _staff_ref(names.get(canned.updated_by)),
    }


def handoff_json(
    handoff: HandoffInfo,
    names: dict[int, StaffInfo],
    now: dt.datetime,
    labels: Sequence[str] = (),
) -> dict[str, Any]:
    assignee = names.get(handoff.assignee_id) if handoff.assignee_id else None
    end = handoff.claimed_at or handoff.closed_at or now
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "channel": handoff.channel,
        "language": handoff.language,
        "status": handoff.status,
        "reason": handoff.reason,
        "last_visitor_message": handoff.last_visitor_message,
        "created_at": handoff.created_at.isoformat(),
        "updated_at": handoff.updated_at.isoformat(),
        "waiting_s": max(0, int((end - handoff.created_at).total_seconds())),
        "assignee": {"username": assignee.username, "display_name": assignee.display_name}
        if assignee
        else None,
        "closed_at": handoff.closed_at.isoformat() if handoff.closed_at else None,
        "outcome": handoff.outcome,
        "labels": list(labels),
    }


def _change_json(change: ChangeInfo) -> dict[str, Any]:
    data = asdict(change)
    data["when"] = change.when.isoformat()
    return data


def _route(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A plain function around a bound method: Sanic marks handlers with attributes."""

    async def handler(request: Request, *args: Any, **kwargs: Any) -> Any:
        return await method(request, *args, **kwargs)

    handler.__name__ = method.__name__
    return handler


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


class DeskConsoleInput(InputChannel):
    """The help desk's console at /webhooks/desk/ (page, static files, API, live stream)."""

    @classmethod
    def name(cls) -> str:
        return "desk"

    def __init__(self, store: DeskStore | None = None) -> None:
        self._store = store
        self._editor: FactEditor | None = None
        self._event_db: EventDB | None = None

    @property
    def store(self) -> DeskStore:
        if self._store is None:  # DATABASE_URL; built on first use so that import stays cheap
            self._store = shared_desk_store()
        return self._store

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("desk_console", __name__)

        @blueprint.exception(ApiError)
        async def api_error(_: Request, error: ApiError) -> HTTPResponse:
            return response.json(error.body, status=error.status, headers=API_HEADERS)

        blueprint.add_route(_route(self.page), "/", methods=["GET"])
        blueprint.add_route(_route(self.static_file), "/static/<filename>", methods=["GET"])
        blueprint.add_route(_route(self.login), "/api/login", methods=["POST"])
        blueprint.add_route(_route(self.logout), "/api/logout", methods=["POST"])
        blueprint.add_route(_route(self.me), "/api/me", methods=["GET"])
        blueprint.add_route(_route(self.queue), "/api/handoffs", methods=["GET"])
        blueprint.add_route(
            _route(self.conversation), "/api/handoffs/<handoff_id:int>", methods=["GET"]
        )
        blueprint.add_route(
            _route(self.change), "/api/handoffs/<handoff_id:int>/<verb:[a-z]+>", methods=["POST"]
        )
        # more specific than the change route above: Sanic matches fixed segments first
        blueprint.add_route(
            _route(self.note_add), "/api/handoffs/<handoff_id:int>/notes", methods=["POST"]
        )
        blueprint.add_route(
            _route(self.labels_set), "/api/handoffs/<handoff_id:int>/labels", methods=["POST"]
        )
        blueprint.add_route(_route(self.canned_list), "/api/canned", methods=["GET"])
        blueprint.add_route(_route(self.canned_add), "/api/canned", methods=["POST"])
        blueprint.add_route(
            _route(self.canned_update), "/api/canned/<canned_id:int>", methods=["POST"]
        )
        blueprint.add_route(
            _route(self.canned_delete), "/api/canned/<canned_id:int>/delete", methods=["POST"]
        )
        blueprint.add_route(_route(self.stream), "/api/stream", methods=["GET"])
        blueprint.add_route(_route(self.ask), "/api/ask", methods=["POST"])
        blueprint.add_route(_route(self.report), "/api/reports/<name>", methods=["GET"])
        blueprint.add_route(_route(self.facts), "/api/facts", methods=["GET"])
        blueprint.add_route(_route(self.fact), "/api/facts/<kind>/<key>", methods=["GET"])
        blueprint.add_route(_route(self.fact_edit), "/api/facts/<kind>/<key>", methods=["POST"])
        blueprint.add_route(
            _route(self.fact_alias), "/api/facts/<kind>/<key>/aliases/<verb>", methods=["POST"]
        )
        blueprint.add_route(
            _route(self.conversation_by_id), "/api/conversations/<conversation_id>", methods=["GET"]
        )
        return blueprint

    # --- page --------------------------------------------------------------------------

    async def page(self, _: Request) -> HTTPResponse:
        return await response.file(WEB_DIR / "console.html", headers=PAGE_HEADERS)

    async def static_file(self, _: Request, filename: str) -> HTTPResponse:
        path = STATIC_FILES.get(filename)  # a fixed list: no paths from the URL
        if path is None or not path.is_file():
            return response.text("not found", status=404)
        return await response.file(path, headers=PAGE_HEADERS)

    # --- sessions ----------------------------------------------------------------------

    async def login(self, request: Request) -> HTTPResponse:
        body = _json_body(request)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise ApiError(400, '"username" and "password" must be strings')
        try:
            login = await _db(
                Authenticator(self.store).login, username.strip(), password, _client(request)
            )
        except LoginRefused as refused:
            if refused.reason == "credentials":
                raise ApiError(401, "credentials") from None
            raise ApiError(429, refused.reason, retry_after_s=refused.retry_after_s) from None
        reply = response.json(self._me_json(login.staff, login.csrf_token), headers=API_HEADERS)
        self._set_cookie(reply, login.token, _over_https(request))
        return reply

    @staticmethod
    def _set_cookie(reply: HTTPResponse, token: str, secure: bool) -> None:
        reply.cookies[COOKIE] = token
        cookie = reply.cookies[COOKIE]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = COOKIE_PATH
        cookie["max-age"] = int(SESSION_LIFETIME.total_seconds())
        if secure:
            cookie["secure"] = True

    async def logout(self, request: Request) -> HTTPResponse:
        await self._session(request, permission=None, changes=True)
        await _db(Authenticator(self.store).logout, request.cookies.get(COOKIE))
        reply = response.json({"ok": True}, headers=API_HEADERS)
        self._set_cookie(reply, "", _over_https(request))
        reply.cookies[COOKIE]["max-age"] = 0
        return reply

    async def me(self, request: Request) -> HTTPResponse:
        session = await self._session(request, permission=None)
        return response.json(self._me_json(session.staff, session.csrf_token), headers=API_HEADERS)

    @staticmethod
    def _me_json(staff: StaffInfo, csrf_token: str) -> dict[str, Any]:
        permissions = sorted(PERMISSIONS.get(staff.role, frozenset()))
        return {"staff": staff_json(staff), "csrf_token": csrf_token, "permissions": permissions}

    async def _session(
        self, request: Request, permission: str | None, changes: bool = False
    ) -> SessionInfo:
        """The caller's session, or 401; 403 without the permission or (for changes) CSRF."""
        session = await _db(Authenticator(self.store).session, request.cookies.get(COOKIE))
        if session is None:
            raise ApiError(401, "login")
        if changes and not csrf_ok(session, request.headers.get("x-csrf-token")):
            raise ApiError(403, "csrf")
        if permission is not None and not allowed(session.staff.role, permission):
            raise ApiError(403, "forbidden")
        return session

    # --- queue and transcripts -------------------------------------------------------------

    async def _names(self) -> dict[int, StaffInfo]:
        return {staff.id: staff for staff in await _db(self.store.all_staff)}

    async def queue(self, request: Request) -> HTTPResponse:
        session = await self._session(request, "queue")
        view = request.args.get("view", "waiting")
        if view == "closed":
            found = await _db(
                self.store.handoffs, ("closed",), newest_first=True, limit=CLOSED_SHOWN
            )
        elif view in VIEWS:
            mine = session.staff.id if view == "mine" else None
            found = await _db(self.store.handoffs, VIEWS[view], assignee_id=mine)
        else:
            raise ApiError(400, f"view must be one of waiting, mine, open, closed, not {view!r}")
        names, now = await self._names(), utc_now()
        labels = await _db(self.store.labels, [h.id for h in found])
        active = await _db(self.store.handoffs, ACTIVE_STATUSES)
        counts = {
            "waiting": sum(1 for h in active if h.status == "waiting"),
            "mine": sum(1 for h in active if h.assignee_id == session.staff.id),
            "open": len(active),
        }
        return response.json(
            {
                "handoffs": [handoff_json(h, names, now, labels[h.id]) for h in found],
                "counts": counts,
            },
            headers=API_HEADERS,
        )

    async def _handoff(self, handoff_id: int) -> HandoffInfo:
        handoff = await _db(self.store.handoff, handoff_id)
        if handoff is None:
            raise ApiError(404, "not_found")
        return handoff

    async def _transcript(self, request: Request, conversation_id: str) -> list[Entry]:
        tracker = await self._agent(request).tracker_store.retrieve_full_tracker(conversation_id)
        return transcript(event.as_dict() for event in tracker.events) if tracker else []

    @staticmethod
    def _agent(request: Request) -> Any:
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or agent.processor is None:
            raise ApiError(503, "the assistant is still starting")
        return agent

    async def conversation(self, request: Request, handoff_id: int) -> HTTPResponse:
        await self._session(request, "queue")
        handoff = await self._handoff(handoff_id)
        entries = await self._transcript(request, handoff.conversation_id)
        wechat = wechat_allowance(entries).as_json() if handoff.channel == "wechat" else None
        names = await self._names()
        notes = await _db(self.store.notes, handoff.id)
        return response.json(
            {
                "handoff": await self._handoff_out(handoff, names),
                "transcript": [entry.as_json() for entry in entries],
                "wechat": wechat,
                "notes": [note_json(note, names) for note in notes],
            },
            headers=API_HEADERS,
        )

    # --- changes -------------------------------------------------------------------------

    async def change(self, request: Request, handoff_id: int, verb: str) -> HTTPResponse:
        handlers = {
            "claim": self._claim,
            "reply": self._reply,
            "typing": self._typing,
            "resume": self._resume,
            "close": self._close,
        }
        handler = handlers.get(verb)
        if handler is None:
            raise ApiError(404, "not_found")
        session = await self._session(request, "reply", changes=True)
        body = _json_body(request)
        handoff = await self._handoff(handoff_id)
        if not handoff.active:
            raise ApiError(409, "closed")
        if verb != "claim" and handoff.assignee_id != session.staff.id:
            holder = (await self._names()).get(handoff.assignee_id or 0)
            raise ApiError(409, "not_yours", assignee=holder.display_name if holder else None)
        result = await handler(request, session.staff, handoff, body)
        fresh = await self._handoff_out(await self._handoff(handoff_id), await self._names())
        return response.json({"handoff": fresh, **result}, headers=API_HEADERS)

    async def _handoff_out(
        self, handoff: HandoffInfo, names: dict[int, StaffInfo]
    ) -> dict[str, Any]:
        labels = await _db(self.store.labels, [handoff.id])
        return handoff_json(handoff, names, utc_now(), labels[handoff.id])

    async def _claim(
        self, request: Request, staff: StaffInfo, handoff: HandoffInfo, body: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            await _db(self.store.claim, handoff.id, staff.id, bool(body.get("take_over")))
        except AlreadyClaimed as taken:
            raise ApiError(409, "claimed", assignee=taken.assignee) from None
        except HandoffClosed:
            raise ApiError(409, "closed") from None
        except HandoffNotFound:
            raise ApiError(404, "not_found") from None
        await self._notify(request, handoff, {"status": "open", "staff": staff.display_name})
        return {}

    async def _reply(
        self, request: Request, staff: StaffInfo, handoff: HandoffInfo, body: dict[str, Any]
    ) -> dict[str, Any]:
        text = _text_field(body, "text", MAX_REPLY_CHARS)
        if handoff.channel == "wechat":
            allowance = wechat_allowance(await self._transcript(request, handoff.conversation_id))
            if not allowance.allows(utc_now()):
                errcode = 45047 if allowance.quota_left == 0 else 45015
                raise ApiError(
                    502,
                    "delivery",
                    channel="wechat",
                    errcode=errcode,
                    detail=WECHAT_LIMITS[errcode],
                )
        at = time.time()  # one server time for the push and the transcript: replays compare it
        parts = await self._deliver(request, handoff, text, staff.display_name, at)
        await self._append(request, handoff.conversation_id, self._said(text, at, staff, parts))
        await _db(self.store.record_staff_action, handoff.id, staff.id, "handoff.reply", "")
        return {"delivered": True}

    @staticmethod
    def _said(text: str, at: float, staff: StaffInfo | None, parts: int = 1) -> BotUttered:
        metadata = {STAFF_KEY: staff.display_name, PARTS_KEY: parts} if staff else {}
        return BotUttered(text, metadata=metadata, timestamp=at)

    async def _typing(
        self, request: Request, staff: StaffInfo, handoff: HandoffInfo, body: dict[str, Any]
    ) -> dict[str, Any]:
        typing = bool(body.get("typing"))
        state = {"status": "open", "staff": staff.display_name, "typing": typing}
        await self._notify(request, handoff, state)
        return {}

    async def _resume(
        self, request: Request, staff: StaffInfo, handoff: HandoffInfo, body: dict[str, Any]
    ) -> dict[str, Any]:
        await self._hand_back(request, staff, handoff, "returned", RETURNED)
        return {}

    async def _close(
        self, request: Request, staff: StaffInfo, handoff: HandoffInfo, body: dict[str, Any]
    ) -> dict[str, Any]:
        outcome = body.get("outcome")
        if outcome not in OUTCOMES:
            raise ApiError(400, f'"outcome" must be one of {", ".join(OUTCOMES)}')
        await self._hand_back(request, staff, handoff, str(outcome), CLOSED)
        return {}

    async def _hand_back(
        self,
        request: Request,
        staff: StaffInfo,
        handoff: HandoffInfo,
        outcome: str,
        farewell: dict[Lang, str],
    ) -> None:
        """Ends the handoff and lets the bot answer again (a closed conversation must not stay
        paused: the visitor's next question would get no answer at all)."""
        text = farewell[handoff.language]
        # Un-pause first: should closing then fail, the bot answers and staff can close again;
        # the other order could leave a closed handoff on a conversation that stays silent.
        # Rasa appends action_listen after every bot turn; the pause cut the handing-over turn
        # short, and without it the next question would not match any rule.
        await self._append(
            request,
            handoff.conversation_id,
            ConversationResumed(),
            ActionExecuted(ACTION_LISTEN_NAME),
        )
        await _db(self.store.close, handoff.id, staff.id, outcome)
        await self._notify(request, handoff, {"status": "closed"})
        try:
            at = time.time()
            await self._deliver(request, handoff, text, None, at)
        except ApiError:  # e.g. WeChat's window has passed: the bot answers them next time
            logger.warning("could not tell %s that staff left", handoff.conversation_id)
            return
        await self._append(request, handoff.conversation_id, self._said(text, at, None))

    async def _append(self, request: Request, conversation_id: str, *events: Event) -> None:
        """Adds events to the conversation under Rasa's lock, as Rasa's own API does."""
        agent = self._agent(request)
        async with agent.lock_store.lock(conversation_id):
            processor = agent.processor
            tracker = await processor.fetch_tracker_with_initial_session(conversation_id)
            for event in events:
                tracker.update(event, agent.domain)
            await processor.save_tracker(tracker)

    async def _deliver(
        self, request: Request, handoff: HandoffInfo, text: str, staff_name: str | None, at: float
    ) -> int:
        delivery = delivery_for(request.app, handoff.channel)
        if delivery is None:
            raise ApiError(
                502, "delivery", channel=handoff.channel, detail="channel not running here"
            )
        try:
            return await delivery.send(handoff.conversation_id, text, staff_name, at=at)
        except DeliveryFailed as failed:
            logger.warning("%s delivery failed: %s", handoff.channel, failed.detail)
            raise ApiError(
                502,
                "delivery",
                channel=handoff.channel,
                errcode=failed.errcode,
                detail=failed.detail,
            ) from None

    @staticmethod
    async def _notify(request: Request, handoff: HandoffInfo, state: dict[str, Any]) -> None:
        delivery = delivery_for(request.app, handoff.channel)
        if delivery is not None:
            await delivery.notify(handoff.conversation_id, state)

    # --- private notes and labels: any staff member, holding the conversation or not -----

    async def note_add(self, request: Request, handoff_id: int) -> HTTPResponse:
        """A note for staff only: kept in the desk's tables, never in the conversation."""
        session = await self._session(request, "queue", changes=True)
        text = _text_field(_json_body(request), "text", STAFF_TEXT_CHARS)
        try:
            note = await _db(self.store.add_note, handoff_id, session.staff.id, text)
        except HandoffNotFound:
            raise ApiError(404, "not_found") from None
        names = await self._names()
        handoff = await self._handoff_out(await self._handoff(handoff_id), names)
        return response.json(
            {"handoff": handoff, "note": note_json(note, names)}, headers=API_HEADERS
        )

    async def labels_set(self, request: Request, handoff_id: int) -> HTTPResponse:
        """Replaces the conversation's labels with the list sent."""
        session = await self._session(request, "queue", changes=True)
        labels = _json_body(request).get("labels")
        if not isinstance(labels, list):
            raise ApiError(400, '"labels" must be a list of words')
        try:
            await _db(self.store.set_labels, handoff_id, session.staff.id, labels)
        except InvalidInput as invalid:
            raise ApiError(400, str(invalid)) from None
        except HandoffNotFound:
            raise ApiError(404, "not_found") from None
        handoff = await self._handoff_out(await self._handoff(handoff_id), await self._names())
        return response.json({"handoff": handoff}, headers=API_HEADERS)

    # --- canned replies: every agent reads them, editors write them -------------------------

    async def canned_list(self, request: Request) -> HTTPResponse:
        await self._session(request, "queue")
        found, names = await _db(self.store.canned_replies), await self._names()
        return response.json(
            {"canned": [canned_json(canned, names) for canned in found]}, headers=API_HEADERS
        )

    async def canned_add(self, request: Request) -> HTTPResponse:
        session = await self._session(request, "edit_canned", changes=True)
        fields = self._canned_fields(_json_body(request))
        added = await self._canned_write(self.store.add_canned, *fields, session.staff.id)
        return response.json(
            {"canned_reply": canned_json(added, await self._names())},
            status=201,
            headers=API_HEADERS,
        )

    async def canned_update(self, request: Request, canned_id: int) -> HTTPResponse:
        session = await self._session(request, "edit_canned", changes=True)
        fields = self._canned_fields(_json_body(request))
        changed = await self._canned_write(
            self.store.update_canned, canned_id, *fields, session.staff.id
        )
        return response.json(
            {"canned_reply": canned_json(changed, await self._names())}, headers=API_HEADERS
        )

    async def canned_delete(self, request: Request, canned_id: int) -> HTTPResponse:
        session = await self._session(request, "edit_canned", changes=True)
        await self._canned_write(self.store.delete_canned, canned_id, session.staff.id)
        return response.json({"deleted": canned_id}, headers=API_HEADERS)

    @staticmethod
    def _canned_fields(body: dict[str, Any]) -> tuple[str, str, str]:
        shortcut = body.get("shortcut")
        if not isinstance(shortcut, str):
            raise ApiError(400, '"shortcut" must be a string')
        text_zh = _text_field(body, "text_zh", STAFF_TEXT_CHARS)
        return shortcut, text_zh, _text_field(body, "text_en", STAFF_TEXT_CHARS)

    @staticmethod
    async def _canned_write(function: Callable[..., T], *args: Any) -> T:
        """A store change to canned replies, its refusals as the API's errors."""
        try:
            return await _db(function, *args)
        except InvalidInput as invalid:
            raise ApiError(400, str(invalid)) from None
        except CannedExists:
            raise ApiError(409, "shortcut_taken") from None
        except CannedNotFound:
            raise ApiError(404, "not_found") from None

    # --- reports -------------------------------------------------------------------------

    @staticmethod
    def _conversation_log(request: Request) -> ConversationLog:
        store = DeskConsoleInput._agent(request).tracker_store
        # Rasa wraps the configured store (fail-safe, awaitable); reports read the SQL one.
        while not isinstance(store, SQLTrackerStore) and hasattr(store, "_tracker_store"):
            store = store._tracker_store
        if not isinstance(store, SQLTrackerStore):
            raise ApiError(503, "reports need Rasa's SQL tracker store (endpoints.yml)")
        return ConversationLog(store.engine)

    async def report(self, request: Request, name: str) -> HTTPResponse:
        await self._session(request, "queue")
        log, now = self._conversation_log(request), utc_now()
        if name in ("unanswered", "unanswered.csv"):
            days = _int_arg(request, "days", default=7, low=1, high=31)
            found = await _db(unanswered_report, log, self.store, days, now)
            if name == "unanswered.csv":
                headers = {
                    **API_HEADERS,
                    "Content-Disposition": 'attachment; filename="unanswered.csv"',
                }
                csv_text = "\ufeff" + unanswered_csv(found["groups"])  # BOM: Excel reads UTF-8
                return response.text(csv_text, headers=headers, content_type="text/csv")
            body = {"groups": [g.as_json() for g in found["groups"]], "daily": found["daily"]}
            return response.json(body, headers=API_HEADERS)
        if name == "dashboard":
            hours = _int_arg(request, "hours", default=24, low=1, high=24 * 7)
            return response.json(
                await _db(dashboard_report, log, self.store, hours, now), headers=API_HEADERS
            )
        raise ApiError(404, "not_found")

    async def conversation_by_id(self, request: Request, conversation_id: str) -> HTTPResponse:
        """Any conversation's transcript, for the reports' links (not only handed-over ones)."""
        await self._session(request, "queue")
        entries = await self._transcript(request, conversation_id[:CONVERSATION_ID_LEN])
        if not entries:
            raise ApiError(404, "not_found")
        return response.json(
            {"conversation_id": conversation_id, "transcript": [e.as_json() for e in entries]},
            headers=API_HEADERS,
        )

    # --- live fact edits -------------------------------------------------------------------

    @property
    def editor(self) -> FactEditor:
        if self._editor is None:  # DATABASE_URL, the event database the actions read
            self._editor = FactEditor()
            self._editor.ensure_schema()
        return self._editor

    async def _edit(self, call: Callable[..., EditableRecord], *args: Any, **kwargs: Any) -> Any:
        """An edit's result as JSON, or its refusal as the API's error."""
        try:
            record = await _db(call, *args, **kwargs)
        except UnknownRecord:
            raise ApiError(404, "not_found") from None
        except EditConflict:
            raise ApiError(
                409, "changed", detail="someone changed this record; reload it"
            ) from None
        except FactEditError as refused:
            problems = [asdict(problem) for problem in refused.problems]
            raise ApiError(422, "invalid", problems=problems) from None
        return response.json({"record": record.as_json()}, headers=API_HEADERS)

    async def facts(self, request: Request) -> HTTPResponse:
        await self._session(request, "queue")
        kind = request.args.get("kind", "")
        if kind not in FACT_KINDS:
            raise ApiError(400, f"kind must be one of {', '.join(FACT_KINDS)}")
        records = await _db(self.editor.editable, kind)
        history = await _db(self.editor.history, kind, None, 50)
        return response.json(
            {
                "records": [r.as_json() for r in records],
                "history": [_change_json(c) for c in history],
            },
            headers=API_HEADERS,
        )

    async def fact(self, request: Request, kind: str, key: str) -> HTTPResponse:
        await self._session(request, "queue")
        reply = await self._edit(self.editor.record, kind, key)
        history = await _db(self.editor.history, kind, key, 50)
        body = json.loads(reply.body)
        body["history"] = [_change_json(c) for c in history]
        return response.json(body, headers=API_HEADERS)

    async def fact_edit(self, request: Request, kind: str, key: str) -> HTTPResponse:
        session = await self._session(request, "edit_facts", changes=True)
        body = _json_body(request)
        changes, revision = body.get("changes"), body.get("revision")
        if not isinstance(changes, dict) or not isinstance(revision, int):
            raise ApiError(400, 'expected {"changes": {field: value}, "revision": N}')
        return await self._edit(
            self.editor.update,
            kind,
            key,
            changes,
            session.staff.username,
            expected_revision=revision,
        )

    async def fact_alias(self, request: Request, kind: str, key: str, verb: str) -> HTTPResponse:
        session = await self._session(request, "edit_facts", changes=True)
        body = _json_body(request)
        text, revision = _text_field(body, "text", 200), body.get("revision")
        if not isinstance(revision, int):
            raise ApiError(400, '"revision" must be the record\'s revision')
        who = session.staff.username
        if verb == "add":
            lang = body.get("lang")
            if lang not in ("zh", "en"):
                raise ApiError(400, '"lang" must be "zh" or "en"')
            add = self.editor.add_alias
            return await self._edit(add, kind, key, text, lang, who, expected_revision=revision)
        if verb == "delete":
            remove = self.editor.remove_alias
            return await self._edit(remove, kind, key, text, who, expected_revision=revision)
        raise ApiError(404, "not_found")

    # --- the ask box ---------------------------------------------------------------------

    async def ask(self, request: Request) -> HTTPResponse:
        await self._session(request, "queue", changes=True)
        question = _text_field(_json_body(request), "text", MAX_QUESTION_CHARS)
        result = await ask_bot(self._agent(request), question)
        if self._event_db is None:
            self._event_db = EventDB()  # DATABASE_URL, as the action server reads it
        await _db(with_records, result, self._event_db, question)
        return response.json(result.as_json(), headers=API_HEADERS)

    # --- live updates ----------------------------------------------------------------------

    async def stream(self, request: Request) -> None:
        """Server-Sent Events: `queue` whenever a handoff changes (from any instance, since
        it polls the shared table), a comment as heartbeat; ends when the session does."""
        await self._session(request, "queue")
        sse = await request.respond(
            content_type="text/event-stream",
            headers={**API_HEADERS, "X-Accel-Buffering": "no"},  # nginx: do not buffer
        )
        loop = asyncio.get_running_loop()
        started = last_check = last_beat = loop.time()
        version = await _db(self.store.queue_version)
        await sse.send(_sse("queue", {"version": version.key, "changed": []}))
        while loop.time() - started < STREAM_LIFETIME_S:
            await asyncio.sleep(STREAM_POLL_S)
            if request.transport.is_closing():  # the console went away
                return
            current = await _db(self.store.queue_version)
            if current != version:
                since = version.latest_update or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
                changed = await _db(self.store.changed_since, since)
                version = current
                await sse.send(_sse("queue", {"version": current.key, "changed": changed}))
                last_beat = loop.time()
            elif loop.time() - last_beat > STREAM_HEARTBEAT_S:
                await sse.send(": heartbeat\n\n")
                last_beat = loop.time()
            if loop.time() - last_check > STREAM_RECHECK_S:
                last_check = loop.time()
                if (
                    await _db(Authenticator(self.store).session, request.cookies.get(COOKIE))
                    is None
                ):
                    await sse.send(_sse("logout", {}))
                    break
        await sse.eof()
