"""WeChat Official Account (公众号) channel: /webhooks/wechat/webhook.

WeChat pushes each follower message as signed (and in safe mode encrypted) XML, waits 5 s for
a passive reply and otherwise retries, up to three times. This channel

- checks the signature (and msg_signature) and the timestamp of every request before reading
  anything else, and refuses DTDs, oversized and malformed bodies (wechat_protocol);
- refuses a signed query string replayed with another body, and a MsgId replayed under another
  OpenID (replay.py: in Redis when REDIS_URL is set);
- runs each message through Rasa exactly once, keyed by MsgId (FromUserName + CreateTime for
  events), however many retries arrive or when (`_turns`), and on which instance: the first
  one claims the message in Redis and publishes its reply for retries that reach another one
  (turns.py, when REDIS_URL is set);
- answers passively when Rasa is done within the reply budget, and otherwise answers "success"
  at once and delivers the answer through the customer-service API (wechat_api);
- turns Rasa's messages and buttons into one text reply with numbered options, and a follower's
  "2" into the second option of the bot's last answer, read from the shared tracker store
  (render.py);
- answers a follower over the conversation rate (bot/rate_limits.py: per OpenID; WeChat's
  servers are the only address) with "please slow down" in the passive reply, without asking
  Rasa; the answer is remembered with the turn, so WeChat's retries do not count again;
- answers "success" while the conversation is paused for the help desk (Rasa says nothing), and
  registers the delivery of staff replies through the customer-service API (delivery.py).

Configuration: credentials.yml `bot.channels.wechat.channel.WeChatInput:` plus WECHAT_* environment
variables (wechat_config, docs/wechat.md).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.crypto import WeChatCrypto

from bot.cache import TtlCache
from bot.channels.conversation_ids import WECHAT, conversation_id
from bot.channels.delivery import register_delivery
from bot.channels.inbound import visitor_text
from bot.channels.wechat.api import CustomerServiceApi
from bot.channels.wechat.config import WeChatSettings, load_settings
from bot.channels.wechat.delivery import WeChatDelivery
from bot.channels.wechat.protocol import (
    Inbound,
    PushParams,
    Rejected,
    authenticate,
    open_push,
    parse_inbound,
    seal,
    text_reply,
)
from bot.channels.wechat.replay import bindings_for, check_not_replayed
from bot.channels.wechat.turns import claims_for
from bot.channels.wechat.render import (
    Option,
    WeChatText,
    choice_number,
    chosen_payload,
    last_answer_options,
    render,
    split_text,
    stored_answer,
    truncate_text,
    utf8_size,
)
from bot.lang import detect_language
from bot.rate_limits import RateLimiter
from bot.unavailable import slow_down

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

SUCCESS = "success"  # tells WeChat "received, no passive reply, do not retry"
# WeChat retries within ~15 s; remember turns long enough for slow networks, not forever.
TURN_TTL_S = 300.0
OPTIONS_TTL_S = 24 * 3600.0
MAX_REMEMBERED = 10_000

NOT_TEXT_REPLY = (
    "目前我只能阅读文字消息，请用文字提问，例如：“开幕式在哪里举行？”\n"
    'I can only read text messages. Please type your question, e.g. "Where is the opening '
    'ceremony?"'
)
ERROR_REPLY = (
    "抱歉，系统暂时无法回答，请稍后再试。\nSorry, I can't answer right now. Please try again later."
)


@dataclass
class Turn:
    """One WeChat message's single run through the bot, shared by all its deliveries."""

    task: asyncio.Task[WeChatText]
    pushed: bool = False  # the answer goes (went) through the customer-service API


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(load_settings(credentials))

    def __init__(self, settings: WeChatSettings, rate_limiter: RateLimiter | None = None) -> None:
        self.settings = settings
        # the server's environment (REDIS_URL, overrides); a bad override stops the start here
        self.rate_limiter = rate_limiter or RateLimiter.from_env()
        self._crypto = (
            WeChatCrypto(settings.token, settings.encoding_aes_key, settings.app_id)
            if settings.enabled and settings.accepts_encrypted
            else None
        )
        self._api = CustomerServiceApi(settings) if settings.enabled and settings.can_push else None
        self._turns: TtlCache[str, Turn] = TtlCache(TURN_TTL_S, MAX_REMEMBERED)
        # Signed query string -> its body, MsgId -> its OpenID, for as long as a query string
        # passes the timestamp check or a turn is remembered (replay.py).
        self._bindings = bindings_for(
            settings.redis_url,
            max(TURN_TTL_S, 2 * settings.max_timestamp_skew_s),
            settings.app_id or "default",
        )
        # Which instance runs a message, and its reply for retries that reach the others.
        self._claims = claims_for(settings.redis_url, TURN_TTL_S, settings.app_id or "default")
        self._app: Any = None  # Sanic's app, for the agent's tracker store (set on start)
        self._deliveries: set[asyncio.Task[None]] = set()
        if not settings.enabled:
            logger.warning(
                "WeChat channel is off: set WECHAT_TOKEN (see docs/wechat.md); "
                "its webhook answers 503 until then."
            )

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint(
            f"wechat_webhook_{type(self).__name__}", module.__name__ if module else None
        )

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "enabled": self.settings.enabled})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return self._verify_url(request)

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        # On and able to push: staff replies go this way too, under the channel's name ("wechat",
        # the desk's name for it; the tests' second channel class registers under its own).
        if self._api is not None:
            delivery = WeChatDelivery(self._api, self.settings.reply_limit_bytes)

            @webhook.listener("before_server_start")
            async def offer_delivery(app: Any, _: Any) -> None:
                register_delivery(app, self.name(), delivery)

        @webhook.listener("before_server_start")
        async def keep_app(app: Any, _: Any) -> None:
            self._app = app

        @webhook.listener("before_server_stop")
        async def close(*_: Any) -> None:
            await self.close()

        return webhook

    # -- HTTP ----------------------------------------------------------------------------

    def _verify_url(self, request: Request) -> HTTPResponse:
        """WeChat's one-time URL check when the server address is saved in its console."""
        if not self.settings.enabled:
            return response.text("WeChat channel not configured", status=503)
        params = PushParams.from_query(request.args)
        try:
            self._authenticate(params)
        except Rejected as rejection:
            return self._refuse(request, rejection)
        return response.text(params.echostr)

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        started = time.monotonic()
        if not self.settings.enabled:
            return response.text("WeChat channel not configured", status=503)
        params = PushParams.from_query(request.args)
        try:
            self._authenticate(params)
            raw = await _read_limited(request, self.settings.max_body_bytes)
            document = open_push(raw, params, self.settings.accepts_plain, self._crypto)
            inbound = parse_inbound(document)
            await check_not_replayed(self._bindings, params, raw, inbound)
        except Rejected as rejection:
            return self._refuse(request, rejection)
        deadline = started + self.settings.reply_budget_s
        reply = await self._reply_to(inbound, on_new_message, deadline)
        if reply is None:
            return response.text(SUCCESS)
        crypto = self._crypto if params.encrypted else None
        sealed = seal(text_reply(reply, inbound), crypto, params.nonce)
        return response.text(sealed, content_type="application/xml; charset=utf-8")

    def _authenticate(self, params: PushParams) -> None:
        s = self.settings
        authenticate(params, s.token, s.max_timestamp_skew_s, time.time())

    @staticmethod
    def _refuse(request: Request, rejection: Rejected) -> HTTPResponse:
        logger.warning(
            "wechat.rejected %s from %s: %s", rejection.status, request.ip, rejection.reason
        )
        return response.text(rejection.reason, status=rejection.status)

    # -- answering -----------------------------------------------------------------------

    async def _reply_to(
        self, inbound: Inbound, on_new_message: OnNewMessage, deadline: float
    ) -> str | None:
        """The passive reply's text, or None for "success" (nothing, or sent separately)."""
        turn = self._turns.get(inbound.dedupe_key) or await self._claim(inbound, on_new_message)
        while turn is None:  # another instance runs this message: answer what it answers
            shared = await self._claims.wait_for_reply(inbound.dedupe_key, deadline)
            if shared is None or not shared.orphaned:
                return shared.text if shared is not None else None
            turn = await self._claim(inbound, on_new_message, owner_died=True)
        return await self._own_reply(turn, inbound, deadline)

    async def _claim(
        self, inbound: Inbound, on_new_message: OnNewMessage, owner_died: bool = False
    ) -> Turn | None:
        """This process's run of the message, or None when another instance has claimed it."""
        claimed = await self._claims.claim(inbound.dedupe_key)
        # a delivery of the same message may have started a run while the claim was awaited
        turn = self._turns.get(inbound.dedupe_key)
        if turn is None and claimed:
            answer = (
                self._answer_unless_stored(inbound, on_new_message)
                if owner_died
                else self._answer(inbound, on_new_message)
            )
            turn = Turn(asyncio.create_task(answer))
            self._turns.put(inbound.dedupe_key, turn)
            self._track(asyncio.create_task(self._claims.hold(inbound.dedupe_key, turn.task)))
        return turn

    async def _own_reply(self, turn: Turn, inbound: Inbound, deadline: float) -> str | None:
        answer = await _result_by(turn.task, deadline)
        if turn.pushed:  # an earlier delivery of this message already went the slow way
            return None
        if answer is None or utf8_size(answer.text) > self.settings.reply_limit_bytes:
            if self._push(turn, inbound.openid):
                await self._claims.publish(inbound.dedupe_key, None)
                return None
        if answer is None:
            logger.error("wechat.reply.lost: no customer-service API to deliver a slow answer")
            self._publish_when_ready(turn, inbound.dedupe_key)
            return None
        reply = self._passive(answer)
        await self._claims.publish(inbound.dedupe_key, reply)
        return reply

    def _passive(self, answer: WeChatText) -> str | None:
        return truncate_text(answer.text, self.settings.reply_limit_bytes) or None

    def _publish_when_ready(self, turn: Turn, key: str) -> None:
        """A later retry, on any instance, gets the answer that came too late for this one."""

        async def publish() -> None:
            await self._claims.publish(key, self._passive(await turn.task))

        self._track(asyncio.create_task(publish()))

    async def _answer_unless_stored(
        self, inbound: Inbound, on_new_message: OnNewMessage
    ) -> WeChatText:
        """A dead owner may have stored its turn before it could reply (behind nginx, a
        retry then reaches another instance): its stored answer, not the message twice."""
        events = await self._stored_events(inbound)
        stored = stored_answer(events, inbound.dedupe_key) if events is not None else None
        return stored if stored is not None else await self._answer(inbound, on_new_message)

    async def _answer(self, inbound: Inbound, on_new_message: OnNewMessage) -> WeChatText:
        if inbound.kind == "event":
            if inbound.is_subscribe:
                return await self._ask_bot(inbound, self.settings.welcome_payload, on_new_message)
            return WeChatText("")  # unsubscribe, menu clicks, ...: nothing to say
        if inbound.text.strip():
            text = inbound.text
            if choice_number(text) is not None:
                text = chosen_payload(text, await self._offered_options(inbound)) or text
            # cut to MAX_MESSAGE_CHARS, a typed /intent{...} checked (bot/channels/inbound.py)
            return await self._ask_bot(inbound, visitor_text(text), on_new_message)
        return WeChatText(NOT_TEXT_REPLY)  # image, voice without recognition, location, link, ...

    async def _ask_bot(
        self, inbound: Inbound, text: str, on_new_message: OnNewMessage
    ) -> WeChatText:
        """One run through Rasa in the follower's conversation, `wx:<OpenID>`."""
        conversation = conversation_id(WECHAT, inbound.openid)
        verdict = await self.rate_limiter.hit_all(("conversation", conversation))
        if not verdict.allowed:  # Rasa never sees it
            return WeChatText(slow_down(detect_language(inbound.text)))
        collector = CollectingOutputChannel()
        message = UserMessage(
            text,
            collector,
            conversation,
            input_channel=self.name(),
            message_id=inbound.dedupe_key,
        )
        try:
            await on_new_message(message)
        except Exception:  # the follower still gets an answer; the log gets the details
            logger.exception("wechat.bot.failed for message %s", inbound.dedupe_key)
            return WeChatText(ERROR_REPLY)
        return render(collector.messages)

    async def _offered_options(self, inbound: Inbound) -> tuple[Option, ...]:
        """The options of the bot's last answer to this follower, from any instance."""
        events = await self._stored_events(inbound)  # unreadable: "2" goes to Rasa as typed
        return last_answer_options(events or [], time.time(), OPTIONS_TTL_S)

    async def _stored_events(self, inbound: Inbound) -> list[Any] | None:
        """The follower's conversation as every instance sees it; None when unreadable
        (the turn then goes to Rasa, which apologises if the store is down)."""
        try:
            tracker = await self._app.ctx.agent.tracker_store.retrieve(
                conversation_id(WECHAT, inbound.openid)
            )
        except Exception:  # noqa: BLE001 - any store failure: the log gets the details
            logger.exception("wechat.tracker.unreadable for message %s", inbound.dedupe_key)
            return None
        return list(tracker.events) if tracker is not None else []

    # -- slow answers --------------------------------------------------------------------

    def _push(self, turn: Turn, openid: str) -> bool:
        """Hand the answer to the customer-service API once it is ready; False if unavailable."""
        if self._api is None:
            return False
        turn.pushed = True
        self._track(asyncio.create_task(self._deliver(turn.task, openid)))
        return True

    def _track(self, task: asyncio.Task[None]) -> None:
        """Kept until done, so that close() lets it finish."""
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, answer: asyncio.Task[WeChatText], openid: str) -> None:
        assert self._api is not None
        text = (await answer).text
        for part in split_text(text, self.settings.reply_limit_bytes):
            if not await self._api.send_text(openid, part):
                return  # logged; later parts would make no sense without this one

    async def close(self) -> None:
        """Let answers under way reach their followers (briefly), then release connections."""
        if self._deliveries:
            await asyncio.wait(set(self._deliveries), timeout=10)
        if self._api is not None:
            await self._api.close()
        await self._bindings.close()
        await self._claims.close()
        self.rate_limiter.close()


async def _result_by(task: asyncio.Task[WeChatText], deadline: float) -> WeChatText | None:
    """The task's result if it is ready by `deadline` (monotonic); the task runs on regardless."""
    try:
        return await asyncio.wait_for(asyncio.shield(task), max(0.0, deadline - time.monotonic()))
    except asyncio.TimeoutError:
        return None


async def _read_limited(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it grows past `limit` (never buffered beyond it)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Rejected(413, f"body larger than {limit} bytes")
    body = bytearray()
    if request.stream is not None:
        async for chunk in request.stream:
            body += chunk
            if len(body) > limit:
                raise Rejected(413, f"body larger than {limit} bytes")
    return bytes(body)
