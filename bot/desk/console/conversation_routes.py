"""The queue and the conversations: claim, reply, typing, return to the bot, close, notes,
labels, any conversation's transcript, and the live stream."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ConversationResumed
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.db.desk import (
    AlreadyClaimed,
    HandoffClosed,
    HandoffInfo,
    HandoffNotFound,
    InvalidInput,
    StaffInfo,
)
from bot.db.desk.models import ACTIVE_STATUSES, CONVERSATION_ID_LEN, STAFF_TEXT_CHARS
from bot.db.desk.store import utc_now
from bot.desk.auth import Authenticator
from bot.desk.console.base import ConsoleBase
from bot.desk.console.http import (
    API_HEADERS,
    COOKIE,
    ApiError,
    json_body,
    run_sync,
    sse_event,
    text_field,
)
from bot.desk.console.shapes import handoff_json, note_json
from bot.desk.transcript import wechat_allowance
from bot.lang import Lang

logger = logging.getLogger(__name__)

MAX_REPLY_CHARS = 2000


OUTCOMES = ("resolved", "no_answer", "spam", "left")


VIEWS = {"waiting": ("waiting",), "mine": ACTIVE_STATUSES, "open": ACTIVE_STATUSES}


CLOSED_SHOWN = 200


STREAM_POLL_S = 1.0


STREAM_HEARTBEAT_S = 15.0


STREAM_RECHECK_S = 30.0  # a disabled account or an ended session stops its stream this soon


STREAM_LIFETIME_S = 600.0  # EventSource reconnects by itself; bounds a forgotten connection


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


class ConversationRoutes(ConsoleBase):
    """Routes of this module, mixed into DeskConsoleInput (bot/desk/console/channel.py)."""

    async def queue(self, request: Request) -> HTTPResponse:
        session = await self._session(request, "queue")
        view = request.args.get("view", "waiting")
        if view == "closed":
            found = await run_sync(
                self.store.handoffs, ("closed",), newest_first=True, limit=CLOSED_SHOWN
            )
        elif view in VIEWS:
            mine = session.staff.id if view == "mine" else None
            found = await run_sync(self.store.handoffs, VIEWS[view], assignee_id=mine)
        else:
            raise ApiError(400, f"view must be one of waiting, mine, open, closed, not {view!r}")
        names, now = await self._names(), utc_now()
        labels = await run_sync(self.store.labels, [h.id for h in found])
        active = await run_sync(self.store.handoffs, ACTIVE_STATUSES)
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

    async def conversation(self, request: Request, handoff_id: int) -> HTTPResponse:
        await self._session(request, "queue")
        handoff = await self._handoff(handoff_id)
        entries = await self._transcript(request, handoff.conversation_id)
        wechat = wechat_allowance(entries).as_json() if handoff.channel == "wechat" else None
        names = await self._names()
        notes = await run_sync(self.store.notes, handoff.id)
        return response.json(
            {
                "handoff": await self._handoff_out(handoff, names),
                "transcript": [entry.as_json() for entry in entries],
                "wechat": wechat,
                "notes": [note_json(note, names) for note in notes],
            },
            headers=API_HEADERS,
        )

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
        body = json_body(request)
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
        labels = await run_sync(self.store.labels, [handoff.id])
        return handoff_json(handoff, names, utc_now(), labels[handoff.id])

    async def _claim(
        self, request: Request, staff: StaffInfo, handoff: HandoffInfo, body: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            await run_sync(self.store.claim, handoff.id, staff.id, bool(body.get("take_over")))
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
        text = text_field(body, "text", MAX_REPLY_CHARS)
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
        await run_sync(self.store.record_staff_action, handoff.id, staff.id, "handoff.reply", "")
        return {"delivered": True}

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
        await run_sync(self.store.close, handoff.id, staff.id, outcome)
        await self._notify(request, handoff, {"status": "closed"})
        try:
            at = time.time()
            await self._deliver(request, handoff, text, None, at)
        except ApiError:  # e.g. WeChat's window has passed: the bot answers them next time
            logger.warning("could not tell %s that staff left", handoff.conversation_id)
            return
        await self._append(request, handoff.conversation_id, self._said(text, at, None))

    async def note_add(self, request: Request, handoff_id: int) -> HTTPResponse:
        """A note for staff only: kept in the desk's tables, never in the conversation."""
        session = await self._session(request, "queue", changes=True)
        text = text_field(json_body(request), "text", STAFF_TEXT_CHARS)
        try:
            note = await run_sync(self.store.add_note, handoff_id, session.staff.id, text)
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
        labels = json_body(request).get("labels")
        if not isinstance(labels, list):
            raise ApiError(400, '"labels" must be a list of words')
        try:
            await run_sync(self.store.set_labels, handoff_id, session.staff.id, labels)
        except InvalidInput as invalid:
            raise ApiError(400, str(invalid)) from None
        except HandoffNotFound:
            raise ApiError(404, "not_found") from None
        handoff = await self._handoff_out(await self._handoff(handoff_id), await self._names())
        return response.json({"handoff": handoff}, headers=API_HEADERS)

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
        version = await run_sync(self.store.queue_version)
        await sse.send(sse_event("queue", {"version": version.key, "changed": []}))
        while loop.time() - started < STREAM_LIFETIME_S:
            await asyncio.sleep(STREAM_POLL_S)
            if request.transport.is_closing():  # the console went away
                return
            current = await run_sync(self.store.queue_version)
            if current != version:
                since = version.latest_update or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
                changed = await run_sync(self.store.changed_since, since)
                version = current
                await sse.send(sse_event("queue", {"version": current.key, "changed": changed}))
                last_beat = loop.time()
            elif loop.time() - last_beat > STREAM_HEARTBEAT_S:
                await sse.send(": heartbeat\n\n")
                last_beat = loop.time()
            if loop.time() - last_check > STREAM_RECHECK_S:
                last_check = loop.time()
                if (
                    await run_sync(Authenticator(self.store).session, request.cookies.get(COOKIE))
                    is None
                ):
                    await sse.send(sse_event("logout", {}))
                    break
        await sse.eof()
