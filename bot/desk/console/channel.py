"""The console as a Rasa input channel: the routes of every group on one blueprint."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Awaitable

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.console.canned_routes import CannedRoutes
from bot.desk.console.conversation_routes import ConversationRoutes
from bot.desk.console.fact_routes import FactRoutes
from bot.desk.console.http import API_HEADERS, ApiError, route
from bot.desk.console.report_routes import ReportRoutes
from bot.desk.console.session_routes import SessionRoutes

logger = logging.getLogger(__name__)


class DeskConsoleInput(
    SessionRoutes, ConversationRoutes, CannedRoutes, ReportRoutes, FactRoutes, InputChannel
):
    """The help desk's console at /webhooks/desk/ (page, static files, API, live stream)."""

    @classmethod
    def name(cls) -> str:
        return "desk"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("desk_console", __name__)

        @blueprint.exception(ApiError)
        async def api_error(_: Request, error: ApiError) -> HTTPResponse:
            headers = dict(API_HEADERS)
            if error.body.get("retry_after_s"):  # a 429: when to try again, as HTTP says it
                headers["Retry-After"] = str(error.body["retry_after_s"])
            return response.json(error.body, status=error.status, headers=headers)

        blueprint.add_route(route(self.page), "/", methods=["GET"])
        blueprint.add_route(route(self.static_file), "/static/<filename>", methods=["GET"])
        blueprint.add_route(route(self.login), "/api/login", methods=["POST"])
        blueprint.add_route(route(self.logout), "/api/logout", methods=["POST"])
        blueprint.add_route(route(self.me), "/api/me", methods=["GET"])
        blueprint.add_route(route(self.queue), "/api/handoffs", methods=["GET"])
        blueprint.add_route(
            route(self.conversation), "/api/handoffs/<handoff_id:int>", methods=["GET"]
        )
        blueprint.add_route(
            route(self.change), "/api/handoffs/<handoff_id:int>/<verb:[a-z]+>", methods=["POST"]
        )
        # more specific than the change route above: Sanic matches fixed segments first
        blueprint.add_route(
            route(self.note_add), "/api/handoffs/<handoff_id:int>/notes", methods=["POST"]
        )
        blueprint.add_route(
            route(self.labels_set), "/api/handoffs/<handoff_id:int>/labels", methods=["POST"]
        )
        blueprint.add_route(route(self.canned_list), "/api/canned", methods=["GET"])
        blueprint.add_route(route(self.canned_add), "/api/canned", methods=["POST"])
        blueprint.add_route(
            route(self.canned_update), "/api/canned/<canned_id:int>", methods=["POST"]
        )
        blueprint.add_route(
            route(self.canned_delete), "/api/canned/<canned_id:int>/delete", methods=["POST"]
        )
        blueprint.add_route(route(self.stream), "/api/stream", methods=["GET"])
        blueprint.add_route(route(self.ask), "/api/ask", methods=["POST"])
        blueprint.add_route(route(self.report), "/api/reports/<name>", methods=["GET"])
        blueprint.add_route(route(self.facts), "/api/facts", methods=["GET"])
        blueprint.add_route(route(self.fact), "/api/facts/<kind>/<key>", methods=["GET"])
        blueprint.add_route(route(self.fact_edit), "/api/facts/<kind>/<key>", methods=["POST"])
        blueprint.add_route(
            route(self.fact_alias), "/api/facts/<kind>/<key>/aliases/<verb>", methods=["POST"]
        )
        # unquoted: the page sends `web:…` ids URL-encoded (`web%3A…`), and Sanic would not decode
        blueprint.add_route(
            route(self.conversation_by_id),
            "/api/conversations/<conversation_id>",
            methods=["GET"],
            unquote=True,
        )
        return blueprint
