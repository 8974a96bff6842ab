"""Facts: editors change events, venues, theme days and facts (bot.db.edits); the ask box
shows the bot's answer and the records behind it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.db import EventDB
from bot.db.edits import KINDS as FACT_KINDS
from bot.db.edits import (
    EditableRecord,
    EditConflict,
    FactEditError,
    UnknownRecord,
)
from bot.desk.ask import MAX_QUESTION_CHARS, ask_bot, with_records
from bot.desk.console.base import ConsoleBase
from bot.desk.console.http import API_HEADERS, ApiError, json_body, run_sync, text_field
from bot.desk.console.shapes import change_json

logger = logging.getLogger(__name__)


class FactRoutes(ConsoleBase):
    """Routes of this module, mixed into DeskConsoleInput (bot/desk/console/channel.py)."""

    async def _edit(self, call: Callable[..., EditableRecord], *args: Any, **kwargs: Any) -> Any:
        """An edit's result as JSON, or its refusal as the API's error."""
        try:
            record = await run_sync(call, *args, **kwargs)
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
        records = await run_sync(self.editor.editable, kind)
        history = await run_sync(self.editor.history, kind, None, 50)
        return response.json(
            {
                "records": [r.as_json() for r in records],
                "history": [change_json(c) for c in history],
            },
            headers=API_HEADERS,
        )

    async def fact(self, request: Request, kind: str, key: str) -> HTTPResponse:
        await self._session(request, "queue")
        reply = await self._edit(self.editor.record, kind, key)
        history = await run_sync(self.editor.history, kind, key, 50)
        body = json.loads(reply.body)
        body["history"] = [change_json(c) for c in history]
        return response.json(body, headers=API_HEADERS)

    async def fact_edit(self, request: Request, kind: str, key: str) -> HTTPResponse:
        session = await self._session(request, "edit_facts", changes=True)
        body = json_body(request)
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
        body = json_body(request)
        text, revision = text_field(body, "text", 200), body.get("revision")
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

    async def ask(self, request: Request) -> HTTPResponse:
        await self._session(request, "queue", changes=True)
        question = text_field(json_body(request), "text", MAX_QUESTION_CHARS)
        result = await ask_bot(self._agent(request), question)
        if self._event_db is None:
            self._event_db = EventDB()  # DATABASE_URL, as the action server reads it
        await run_sync(with_records, result, self._event_db, self.editor, question)
        return response.json(result.as_json(), headers=API_HEADERS)
