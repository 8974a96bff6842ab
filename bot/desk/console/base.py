"""What every group of the console's routes shares: the stores, the session check, the
conversation's tracker (read and appended under Rasa's lock) and the channels' deliveries."""

from __future__ import annotations

import logging
from typing import Any

from rasa.shared.core.events import BotUttered, Event
from sanic.request import Request

from bot.channels.delivery import DeliveryFailed, delivery_for
from bot.db import EventDB
from bot.db.desk import (
    DeskStore,
    HandoffInfo,
    SessionInfo,
    StaffInfo,
    shared_desk_store,
)
from bot.db.edits import FactEditor
from bot.desk.auth import (
    Authenticator,
    allowed,
    csrf_ok,
)
from bot.desk.console.http import COOKIE, ApiError, run_sync
from bot.desk.transcript import PARTS_KEY, STAFF_KEY, Entry, transcript

logger = logging.getLogger(__name__)


class ConsoleBase:
    """The stores and checks every route group uses; mixed into DeskConsoleInput."""

    def __init__(self, store: DeskStore | None = None) -> None:
        self._store = store
        self._editor: FactEditor | None = None
        self._event_db: EventDB | None = None

    @property
    def store(self) -> DeskStore:
        if self._store is None:  # DATABASE_URL; built on first use so that import stays cheap
            self._store = shared_desk_store()
        return self._store

    @property
    def editor(self) -> FactEditor:
        if self._editor is None:  # DATABASE_URL, the event database the actions read
            self._editor = FactEditor()
            self._editor.ensure_schema()
        return self._editor

    async def _session(
        self, request: Request, permission: str | None, changes: bool = False
    ) -> SessionInfo:
        """The caller's session, or 401; 403 without the permission or (for changes) CSRF."""
        session = await run_sync(Authenticator(self.store).session, request.cookies.get(COOKIE))
        if session is None:
            raise ApiError(401, "login")
        if changes and not csrf_ok(session, request.headers.get("x-csrf-token")):
            raise ApiError(403, "csrf")
        if permission is not None and not allowed(session.staff.role, permission):
            raise ApiError(403, "forbidden")
        return session

    async def _names(self) -> dict[int, StaffInfo]:
        return {staff.id: staff for staff in await run_sync(self.store.all_staff)}

    async def _handoff(self, handoff_id: int) -> HandoffInfo:
        handoff = await run_sync(self.store.handoff, handoff_id)
        if handoff is None:
            raise ApiError(404, "not_found")
        return handoff

    @staticmethod
    def _agent(request: Request) -> Any:
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or agent.processor is None:
            raise ApiError(503, "the assistant is still starting")
        return agent

    async def _transcript(self, request: Request, conversation_id: str) -> list[Entry]:
        tracker = await self._agent(request).tracker_store.retrieve_full_tracker(conversation_id)
        return transcript(event.as_dict() for event in tracker.events) if tracker else []

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

    @staticmethod
    def _said(text: str, at: float, staff: StaffInfo | None, parts: int = 1) -> BotUttered:
        metadata = {STAFF_KEY: staff.display_name, PARTS_KEY: parts} if staff else {}
        return BotUttered(text, metadata=metadata, timestamp=at)
