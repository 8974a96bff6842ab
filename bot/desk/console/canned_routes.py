"""Canned replies: every staff member reads them, editors write them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.db.desk import (
    CannedExists,
    CannedNotFound,
    InvalidInput,
)
from bot.db.desk.models import STAFF_TEXT_CHARS
from bot.desk.console.base import ConsoleBase
from bot.desk.console.http import API_HEADERS, ApiError, T, json_body, run_sync, text_field
from bot.desk.console.shapes import canned_json

logger = logging.getLogger(__name__)


class CannedRoutes(ConsoleBase):
    """Routes of this module, mixed into DeskConsoleInput (bot/desk/console/channel.py)."""

    async def canned_list(self, request: Request) -> HTTPResponse:
        await self._session(request, "queue")
        found, names = await run_sync(self.store.canned_replies), await self._names()
        return response.json(
            {"canned": [canned_json(canned, names) for canned in found]}, headers=API_HEADERS
        )

    async def canned_add(self, request: Request) -> HTTPResponse:
        session = await self._session(request, "edit_canned", changes=True)
        fields = self._canned_fields(json_body(request))
        added = await self._canned_write(self.store.add_canned, *fields, session.staff.id)
        return response.json(
            {"canned_reply": canned_json(added, await self._names())},
            status=201,
            headers=API_HEADERS,
        )

    async def canned_update(self, request: Request, canned_id: int) -> HTTPResponse:
        session = await self._session(request, "edit_canned", changes=True)
        fields = self._canned_fields(json_body(request))
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
        text_zh = text_field(body, "text_zh", STAFF_TEXT_CHARS)
        return shortcut, text_zh, text_field(body, "text_en", STAFF_TEXT_CHARS)

    @staticmethod
    async def _canned_write(function: Callable[..., T], *args: Any) -> T:
        """A store change to canned replies, its refusals as the API's errors."""
        try:
            return await run_sync(function, *args)
        except InvalidInput as invalid:
            raise ApiError(400, str(invalid)) from None
        except CannedExists:
            raise ApiError(409, "shortcut_taken") from None
        except CannedNotFound:
            raise ApiError(404, "not_found") from None
