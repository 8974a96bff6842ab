"""Reports: unanswered questions (JSON, CSV) and the dashboard, from Rasa's event log."""

from __future__ import annotations

import logging

from rasa.core.tracker_store import SQLTrackerStore
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.db.desk.conversations import ConversationLog
from bot.db.desk.store import utc_now
from bot.desk.console.base import ConsoleBase
from bot.desk.console.http import API_HEADERS, ApiError, int_arg, run_sync
from bot.desk.reports import dashboard_report, unanswered_csv, unanswered_report

logger = logging.getLogger(__name__)


class ReportRoutes(ConsoleBase):
    """Routes of this module, mixed into DeskConsoleInput (bot/desk/console/channel.py)."""

    @staticmethod
    def _conversation_log(request: Request) -> ConversationLog:
        store = ConsoleBase._agent(request).tracker_store
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
            days = int_arg(request, "days", default=7, low=1, high=31)
            found = await run_sync(unanswered_report, log, self.store, days, now)
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
            hours = int_arg(request, "hours", default=24, low=1, high=24 * 7)
            return response.json(
                await run_sync(dashboard_report, log, self.store, hours, now), headers=API_HEADERS
            )
        raise ApiError(404, "not_found")
