"""The website widget's channel: Rasa's socket.io channel, mended, with an origin allow-list
and the widget's own files.

Rasa 3.6.21's `SocketIOInput` keeps its events, JWT check and `session_persistence`, but:
- it calls `sio.enter_room()` without `await`; python-socketio 5.10+ made that a coroutine, so
  with `session_persistence: true` the socket never joins its session's room and no reply ever
  reaches the browser (RasaHQ/rasa#13027, fix not released). `session_request` is replaced here.
- it builds its socket.io server with `cors_allowed_origins=[]`, which turns python-engineio's
  origin check off: any web page could open a WebSocket to the assistant, whatever
  `rasa run --cors` says (browsers apply CORS to HTTP requests, not to WebSockets). Here the
  assistant's own origin (the demo page) and those in CYBERWEEK_CORS_ORIGINS are allowed, and
  engineio sends the CORS headers of the polling transport itself. (Rasa's `--cors` must stay
  off: its Sanic-CORS would add a second Access-Control-Allow-Origin header to those responses,
  which browsers reject.)
- its `session_request` joins whatever session id the client names, and each message names its
  session again: anyone who learnt an id received that visitor's replies and wrote into their
  chat. Here the server issues the session id with a signed token (widget_sessions.py); a socket
  that presents an id without its valid token gets a new session, and the socket is bound to its
  one session (python-socketio's per-socket session): messages and feedback go to that
  conversation, `web:<session id>` (conversation_ids.py), whatever `session_id` they carry, and
  the socket is in that conversation's room only.
- it takes `message` and `metadata` from the client as they come; here a message
  whose fields have the wrong type is dropped (and logged), a long one is cut, a typed
  /intent{...} is checked and only the metadata the product uses is kept
  (bot/channels/inbound.py).
- its socket.io server takes 1 MB per polling POST or frame; here MAX_BODY_BYTES (64 KiB).
- it takes events and connections as fast as they come: a few clients with fresh sockets
  saturated the one NLU event loop. Here each socket and each address has a rate
  (bot/rate_limits.py): a refused connection gets socket.io's connect_error with "please slow
  down", a refused event gets it as a bot message (once per window, in the language the socket
  last wrote in), and the event is dropped: Rasa never sees it.
- it cannot send a custom payload (see `WebChatOutput`).

It also serves the widget (bot/channels/web) from the same server, so a site embeds it with one
script tag pointing at the assistant, and the demo page needs no second web server:

    GET /webhooks/socketio/demo/                      the demo page of the event site
    GET /webhooks/socketio/widget/cyberweek-chat.js   the widget (loads the two files below)
    GET /webhooks/socketio/widget/cyberweek-chat.css
    GET /webhooks/socketio/widget/socket.io.min.js    socket.io-client, from npm (node_modules)
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from collections.abc import Iterable
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered, ConversationPaused
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.conversation_ids import WEB, conversation_id
from bot.channels.cors import allowed_origins
from bot.channels.delivery import DeliveryFailed, recipient, register_delivery
from bot.channels.inbound import (
    kept_metadata,
    payload_rules,
    visitor_text,
    without_lone_surrogates,
)
from bot.desk.transcript import STAFF_KEY
from bot.db.desk import shared_desk_store
from bot.channels.widget_sessions import SessionSigner, signer_from_env
from bot.channels.widget_sessions import valid_session_id as valid_session_id  # re-exported
from bot.lang import Lang, as_lang, detect_language
from bot.limits import MAX_BODY_BYTES
from bot.rate_limits import RateLimiter, Verdict, client_ip
from bot.security_headers import security_headers
from bot.unavailable import slow_down

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
DEMO_PATH = "/demo/"
WIDGET_FILES = {
    "cyberweek-chat.js": WEB_DIR / "src" / "cyberweek-chat.js",
    "cyberweek-chat.css": WEB_DIR / "src" / "cyberweek-chat.css",
    "socket.io.min.js": WEB_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
}
DEMO_PAGE = WEB_DIR / "demo" / "index.html"
# The demo page's own style and script (no inline ones: bot/security_headers.py's CSP).
DEMO_FILES = {
    "demo.css": WEB_DIR / "demo" / "demo.css",
    "demo.js": WEB_DIR / "demo" / "demo.js",
}
# Revalidate on every load, so a visitor never runs a widget older than the server.
NO_CACHE = {"Cache-Control": "no-cache", **security_headers()}
# The Redis pub/sub channel of the socket.io servers of all instances (REDIS_URL).
SOCKETIO_REDIS_CHANNEL = "cyberweek-socketio"
# Where a socket's conversation is kept in python-socketio's per-socket session.
BOUND_CONVERSATION = "conversation"
# ... the language it last wrote in (for "please slow down"), and until when it was told so.
SOCKET_LANGUAGE = "language"
SLOWED_UNTIL = "slowed_until"


def visitor_feedback(data: Any) -> tuple[bool, str, str] | None:
    """(helpful, question, answer) of a widget's 👍/👎, or None when malformed (the
    conversation is the socket's own, never one the event names)."""
    if not isinstance(data, dict):
        return None
    helpful, question, answer = data.get("helpful"), data.get("question"), data.get("answer")
    if not isinstance(helpful, bool) or not isinstance(question, str):
        return None
    if not isinstance(answer, str) or len(question) > 500 or len(answer) > 500:
        return None
    return helpful, without_lone_surrogates(question), without_lone_surrogates(answer)


def origin_check(listed: list[str]) -> Callable[[str | None, dict[str, Any]], bool]:
    """engineio's origin test: the server's own origin (as the browser sees it) or a listed one."""

    def allowed(origin: str | None, environ: dict[str, Any]) -> bool:
        scheme = environ.get("wsgi.url_scheme", "http")  # X-Forwarded-Proto when proxied
        host = environ.get("HTTP_X_FORWARDED_HOST") or environ.get("HTTP_HOST", "")
        return origin == f"{scheme}://{host.split(',')[0].strip()}" or origin in listed

    return allowed


def share_pushes_through_redis(sio: Any, redis_url: str) -> None:
    """With several Rasa processes, every emit (a reply, a staff message pushed from the desk
    on another instance) goes through Redis to the process holding the visitor's socket.

    Rasa builds its AsyncServer without a client manager (pushes stay in the process), so
    python-socketio's AsyncRedisManager (bounded: socketio_redis.py) replaces it as its
    constructor would have set it.
    """
    if not redis_url:
        return
    from bot.channels.socketio_redis import BoundedRedisManager

    manager = BoundedRedisManager(redis_url, channel=SOCKETIO_REDIS_CHANNEL)
    sio.manager = manager
    manager.set_server(sio)
    sio.manager_initialized = False  # the listener starts with the first connection
    logger.info("socket.io pushes shared through Redis (channel %s)", SOCKETIO_REDIS_CHANNEL)


def socketio_refusal(verdict: Verdict) -> Exception:
    """What a refused connection raises: the client's `connect_error` gets the text (both
    languages: nothing tells the reader's yet) and when to try again."""
    import socketio

    return socketio.exceptions.ConnectionRefusedError(
        slow_down(None), {"retry_after_s": verdict.retry_after_s}
    )


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output, sending a custom payload as the message's data.

    Rasa 3.6 passes the custom dict as keyword arguments to `sio.emit`, so a payload such as
    the handoff's {"handoff": {...}} ends in a TypeError and the visitor gets nothing.
    """

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self.sio.emit(self.bot_message_evt, json_message, room=recipient_id)


def desk_message(text: str, staff_name: str | None, at: float | None) -> dict[str, Any]:
    """A message from the desk as the widget takes it (`at`: its server time, for catch-up)."""
    message: dict[str, Any] = {"text": text}
    if staff_name:
        message["staff"] = {"name": staff_name}
    if at is not None:
        message["at"] = at
    return message


class WidgetDelivery:
    """Staff replies and handoff states pushed into the visitor's open widget (its session's
    room). A visitor with no widget open misses the push; the reply stays in the transcript.

    Rooms are named by the conversation id (`web:<session>`), as Rasa's own replies address
    it; `recipient` only checks that the conversation is the widget's (a legacy or WeChat id
    is refused, not pushed to a room of that name)."""

    def __init__(self, sio: Any, namespace: str | None, event: str) -> None:
        self.sio, self.namespace, self.event = sio, namespace, event

    async def send(
        self, conversation_id: str, text: str, staff_name: str | None, *, at: float | None = None
    ) -> int:
        recipient(WEB, conversation_id)
        await self.sio.emit(
            self.event,
            desk_message(text, staff_name, at),
            room=conversation_id,
            namespace=self.namespace,
        )
        return 1

    async def notify(self, conversation_id: str, state: dict[str, Any]) -> None:
        try:
            recipient(WEB, conversation_id)
        except DeliveryFailed:
            return  # a state is a courtesy: nothing to tell a conversation no widget holds
        await self.sio.emit(
            self.event, {"handoff": state}, room=conversation_id, namespace=self.namespace
        )


def missed_desk_messages(events: Iterable[Any], since: float) -> list[dict[str, Any]]:
    """The desk's messages (bot events after the latest pause: staff replies and the bot's
    words when staff hand back) newer than `since`, as the widget takes them."""
    listed = list(events)
    paused_at = max(
        (i for i, event in enumerate(listed) if isinstance(event, ConversationPaused)), default=None
    )
    if paused_at is None:
        return []
    return [
        desk_message(event.text, (event.metadata or {}).get(STAFF_KEY), event.timestamp)
        for event in listed[paused_at + 1 :]
        if isinstance(event, BotUttered) and event.text and event.timestamp > since
    ]


class WebChatInput(SocketIOInput):
    """Rasa's socket.io channel with an origin allow-list; also serves the widget's files."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        assert self.sio is not None
        share_pushes_through_redis(self.sio, os.environ.get("REDIS_URL", "").strip())
        origins = allowed_origins()
        # engineio checks the Origin of WebSockets too, and answers polling with CORS headers.
        self.sio.eio.cors_allowed_origins = "*" if origins == ["*"] else origin_check(origins or [])
        # engine.io's cap on a polling POST and a WebSocket frame (Sanic caps the HTTP body too).
        self.sio.eio.max_http_buffer_size = MAX_BODY_BYTES
        logger.info("socket.io accepts the assistant's own origin and: %s", origins or "no other")
        missing = [str(path) for path in WIDGET_FILES.values() if not path.is_file()]
        if missing:
            logger.error("widget files missing (run `npm ci` in %s): %s", WEB_DIR, missing)
        payload_rules()  # domain.yml read now, not on a visitor's first /intent
        # read at start-up: a too-short CYBERWEEK_SESSION_SECRET stops the server here
        self.signer: SessionSigner = signer_from_env()
        # a test may set its own before the routes are made; a bad override stops the start
        if getattr(self, "rate_limiter", None) is None:
            self.rate_limiter: RateLimiter = RateLimiter.from_env()
        self._limit_connections()
        self._replace_handlers(on_new_message)
        self._add_widget_routes(blueprint)
        delivery = WidgetDelivery(self.sio, self.namespace, self.bot_message_evt)

        @blueprint.listener("before_server_start")
        async def offer_delivery(app: Any, _: Any) -> None:
            self._app = app
            register_delivery(app, "webchat", delivery)

        return blueprint

    def _limit_connections(self) -> None:
        """Rasa's `connect` handler (its JWT check), behind a rate of new connections per
        address: fresh sockets would otherwise bring fresh per-socket budgets."""
        sio = self.sio
        assert sio is not None
        namespace = self.namespace or "/"
        rasa_connect = sio.handlers.get(namespace, {}).get("connect")

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            address = client_ip(environ.get("sanic.request"))
            verdict = await self.rate_limiter.hit_all(("connections_ip", address))
            if not verdict.allowed:  # the client's connect_error carries the text
                raise socketio_refusal(verdict)
            return True if rasa_connect is None else await rasa_connect(sid, environ, auth)

    async def _slowed_down(
        self, sid: str, checks: tuple[str, str], language: Lang | None = None
    ) -> bool:
        """True when the socket (then its address) is over its rate for this event; the
        socket is told so once per window, in its language, through the bot's own output."""
        assert self.sio is not None
        address = client_ip((self.sio.get_environ(sid, self.namespace) or {}).get("sanic.request"))
        verdict = await self.rate_limiter.hit_all(checks, ("ip", address))
        if verdict.allowed:
            return False
        session = await self._socket_session(sid)
        if session is not None and session.get(SLOWED_UNTIL, 0.0) <= time.monotonic():
            session[SLOWED_UNTIL] = time.monotonic() + verdict.retry_after_s
            lang = language or as_lang(session.get(SOCKET_LANGUAGE))
            output = WebChatOutput(self.sio, self.bot_message_evt)
            await output.send_text_message(sid, slow_down(lang))
        return True

    def _replace_handlers(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Rasa's `session_request` and message handlers, with the fixes the module names.

        Each takes any number of arguments: a client may emit an event with none or several,
        and python-socketio passes them on as they came (a TypeError, logged with its
        traceback, when a handler's signature does not fit)."""
        sio = self.sio
        assert sio is not None

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any = None, *_: Any) -> None:
            if await self._slowed_down(sid, ("socket_control", sid)):
                return
            asked = data if isinstance(data, dict) else {}
            session_id, token = asked.get("session_id"), asked.get("token")
            returning = self.signer.verify(session_id, token, time.time())
            if not returning:  # new, expired, or naming a session it cannot prove it holds
                session_id, token = self.signer.issue(time.time())
            conversation = conversation_id(WEB, session_id)
            await self._bind(sid, conversation)
            # Two arguments: clients that read only the first still get the session id.
            await sio.emit(
                "session_confirm", (session_id, token), room=sid, namespace=self.namespace
            )
            if returning:  # a returning widget: what the desk did meanwhile
                await self._catch_up(sid, conversation, asked.get("since"))

        @sio.on("feedback", namespace=self.namespace)
        async def feedback(sid: str, data: Any = None, *_: Any) -> None:
            if await self._slowed_down(sid, ("socket_control", sid)):
                return
            given = visitor_feedback(data)
            conversation = await self._bound_conversation(sid)
            if given is None or conversation is None:
                logger.warning("socket.io: dropped malformed or session-less feedback")
                return
            try:
                await asyncio.to_thread(shared_desk_store().add_feedback, conversation, *given)
            except Exception:  # a lost 👎 must never disturb the chat
                logger.exception("could not store a visitor's feedback")

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any = None, *_: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message", ""), str):
                logger.warning("socket.io: dropped a message that is not {'message': str, ...}")
                return
            text = data.get("message", "")
            metadata = kept_metadata(data.get(self.metadata_key))
            language = metadata.get("language") or detect_language(text)
            await self._remember_language(sid, language)
            if await self._slowed_down(sid, ("conversation", f"socket:{sid}"), language):
                return  # never reaches Rasa
            sender_id = await self._bound_conversation(sid)
            if sender_id is None and not self.session_persistence:
                sender_id = conversation_id(WEB, sid)  # Rasa's mode: one conversation a socket
                await self._bind(sid, sender_id)
            if sender_id is None:  # a `session_id` in the data proves nothing: ignored
                logger.warning("socket.io: dropped a message before session_request")
                return
            message = UserMessage(
                visitor_text(data.get("message", ""), language=metadata.get("language")),
                WebChatOutput(sio, self.bot_message_evt),
                sender_id,
                input_channel=self.name(),
                metadata=metadata,
            )
            await on_new_message(message)

    async def _bind(self, sid: str, conversation: str) -> None:
        """Makes `conversation` the socket's only one: its room, and what its events address."""
        assert self.sio is not None
        previous = await self._bound_conversation(sid)
        if previous is not None and previous != conversation:
            await self.sio.leave_room(sid, previous, namespace=self.namespace)
        kept = await self._socket_session(sid) or {}  # its language and slow-down notice
        await self.sio.save_session(sid, {**kept, BOUND_CONVERSATION: conversation}, self.namespace)
        await self.sio.enter_room(sid, conversation, namespace=self.namespace)

    async def _socket_session(self, sid: str) -> dict[str, Any] | None:
        """python-socketio's per-socket session (changes to it are kept), None once gone."""
        assert self.sio is not None
        try:
            return await self.sio.get_session(sid, namespace=self.namespace)
        except KeyError:  # disconnected meanwhile
            return None

    async def _remember_language(self, sid: str, language: Lang | None) -> None:
        session = await self._socket_session(sid)
        if session is not None and language is not None:
            session[SOCKET_LANGUAGE] = language

    async def _bound_conversation(self, sid: str) -> str | None:
        session = await self._socket_session(sid)
        bound = session.get(BOUND_CONVERSATION) if session is not None else None
        return bound if isinstance(bound, str) else None

    async def _catch_up(self, sid: str, conversation: str, since: Any) -> None:
        """Tells a (re)connected widget whether staff have its conversation, and replays the
        desk's messages it missed while it was closed (those after the last pause, newer than
        the last desk message it saw: `since`, a server time it got with that message)."""
        assert self.sio is not None
        try:
            store = shared_desk_store()
            handoff = await asyncio.to_thread(store.active_handoff, conversation)
            state: dict[str, Any] = {"status": handoff.status if handoff else "closed"}
            if handoff and handoff.assignee_id:
                staff = await asyncio.to_thread(store.all_staff)
                names = {s.id: s.display_name for s in staff}
                state["staff"] = names.get(handoff.assignee_id, "")
            await self.sio.emit(
                self.bot_message_evt, {"handoff": state}, room=sid, namespace=self.namespace
            )
            app = getattr(self, "_app", None)  # set when the server starts
            if isinstance(since, (int, float)) and not isinstance(since, bool) and app:
                tracker = await app.ctx.agent.tracker_store.retrieve(conversation)
                for message in missed_desk_messages(tracker.events if tracker else [], since):
                    await self.sio.emit(
                        self.bot_message_evt, message, room=sid, namespace=self.namespace
                    )
        except Exception:  # catching up is a courtesy: the chat itself must go on
            logger.exception("could not catch up widget %s", conversation)

    @staticmethod
    def _add_widget_routes(blueprint: Blueprint) -> None:
        @blueprint.route(DEMO_PATH, methods=["GET"])
        async def demo_page(_: Request) -> HTTPResponse:
            return await response.file(DEMO_PAGE, headers=NO_CACHE)

        # a file name, never empty: a bare <filename> would also match the page's own URL
        @blueprint.route(DEMO_PATH + r"<filename:[a-z0-9-]+\.[a-z]+>", methods=["GET"])
        async def demo_file(_: Request, filename: str) -> HTTPResponse:
            path = DEMO_FILES.get(filename)  # a fixed list: no paths from the URL
            if path is None or not path.is_file():
                return response.text("not found", status=404)
            return await response.file(path, headers=NO_CACHE)

        @blueprint.route("/widget/<filename>", methods=["GET"])
        async def widget_file(_: Request, filename: str) -> HTTPResponse:
            path = WIDGET_FILES.get(filename)  # a fixed list: no paths from the URL
            if path is None or not path.is_file():
                return response.text("not found", status=404)
            return await response.file(path, headers=NO_CACHE)
