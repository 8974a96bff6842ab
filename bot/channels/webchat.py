"""The website widget's channel: Rasa's socket.io channel, plus an origin allow-list and the
widget's own files.

Rasa 3.6's `SocketIOInput` builds its socket.io server with `cors_allowed_origins=[]`, which
turns python-engineio's origin check off: any web page could open a WebSocket to the assistant,
whatever `rasa run --cors` says (browsers apply CORS to HTTP requests, not to WebSockets). This
subclass keeps everything else of Rasa's channel (events, `session_persistence`, JWT) and sets
the allowed origins from CYBERWEEK_CORS_ORIGINS (default: the assistant's own origin).

It also serves the widget (bot/channels/web) from the same server, so a site embeds it with one
script tag pointing at the assistant, and the demo page needs no second web server:

    GET /webhooks/socketio/demo/                      the demo page of the event site
    GET /webhooks/socketio/widget/cyberweek-chat.js   the widget (loads the two files below)
    GET /webhooks/socketio/widget/cyberweek-chat.css
    GET /webhooks/socketio/widget/socket.io.min.js    socket.io-client, from npm (node_modules)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.cors import allowed_origins

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
DEMO_PATH = "/demo/"
WIDGET_FILES = {
    "cyberweek-chat.js": WEB_DIR / "src" / "cyberweek-chat.js",
    "cyberweek-chat.css": WEB_DIR / "src" / "cyberweek-chat.css",
    "socket.io.min.js": WEB_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
}
DEMO_PAGE = WEB_DIR / "demo" / "index.html"
# Revalidate on every load, so a visitor never runs a widget older than the server.
NO_CACHE = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


class WebChatInput(SocketIOInput):
    """Rasa's socket.io channel with an origin allow-list; also serves the widget's files."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        assert self.sio is not None
        # None is python-engineio's "same origin only"; it checks the Origin of WebSockets too.
        self.sio.eio.cors_allowed_origins = allowed_origins()
        logger.info(
            "socket.io accepts origins: %s", self.sio.eio.cors_allowed_origins or "same origin"
        )
        missing = [str(path) for path in WIDGET_FILES.values() if not path.is_file()]
        if missing:
            logger.error("widget files missing (run `npm ci` in %s): %s", WEB_DIR, missing)

        @blueprint.route(DEMO_PATH, methods=["GET"])
        async def demo_page(_: Request) -> HTTPResponse:
            return await response.file(DEMO_PAGE, headers=NO_CACHE)

        @blueprint.route("/widget/<filename>", methods=["GET"])
        async def widget_file(_: Request, filename: str) -> HTTPResponse:
            path = WIDGET_FILES.get(filename)  # a fixed list: no paths from the URL
            if path is None or not path.is_file():
                return response.text("not found", status=404)
            return await response.file(path, headers=NO_CACHE)

        return blueprint
