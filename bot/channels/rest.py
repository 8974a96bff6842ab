"""Rasa's REST channel, with the request body checked before Rasa reads it.

Rasa 3.6's RestInput trusts `request.json`: a JSON list, a number as "message" or an object as
"sender" ends in a 500 from deep inside Rasa, and a body without "sender" joins the one shared
conversation `default`. Here such a body gets a 400 that says what is wrong, and Rasa's own
handler runs for every valid one, with what it reads bounded (bot/channels/inbound.py): the
message at most MAX_MESSAGE_CHARS (longer: 400, this is a developer API), a typed /intent{...}
checked, only the metadata the product uses, and the channel always "rest" (a client cannot
claim to be the widget or WeChat). The conversation is `rest:<sender>` (conversation_ids.py): a
WeChat OpenID or a widget's session id sent as `sender` never reaches that visitor's
conversation. The replies still name the caller's own `sender` as `recipient_id`, as clients
match on it and the prefix is the server's business. Bodies over 64 KiB never get here: Sanic answers 413
(ops/rasa_entry.py). Same name ("rest"), so the webhook stays at POST /webhooks/rest/webhook.

A conversation or an address over its rate limit (bot/rate_limits.py) gets 429 with Retry-After
and, as its body, a normal reply: a list with one bot message, "please slow down" in the
conversation's language. A client that shows whatever list comes back shows the visitor why,
without code of its own for 429; one that reads the status knows when to try again.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import QueueOutputChannel, RestInput
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from bot.channels.conversation_ids import (
    REST,
    conversation_id,
    prefix_length,
    split_conversation_id,
)
from bot.channels.delivery import recipient, register_delivery
from bot.channels.inbound import (
    checked_payload,
    kept_metadata,
    payload_rules,
    storable,
    without_lone_surrogates,
)
from bot.db.desk import DeskStore, shared_desk_store
from bot.db.desk.models import CONVERSATION_ID_LEN
from bot.lang import Lang, detect_language
from bot.limits import MAX_MESSAGE_CHARS
from bot.rate_limits import RateLimiter, client_ip
from bot.unavailable import slow_down

# `rest:<sender>` must fit the desk's conversation id column.
MAX_SENDER_CHARS = CONVERSATION_ID_LEN - prefix_length(REST)


def body_problem(body: Any) -> str | None:
    """What is wrong with a REST webhook body, or None when Rasa can take it."""
    if not isinstance(body, dict):
        return 'the body must be a JSON object: {"sender": "...", "message": "..."}'
    message = body.get("message")
    if not isinstance(message, str):
        return '"message" must be a string'
    if len(message) > MAX_MESSAGE_CHARS:
        return f'"message" is longer than {MAX_MESSAGE_CHARS} characters'
    sender = body.get("sender")
    if sender is None:  # Rasa would put every such caller into one conversation, "default"
        return '"sender" is required: a conversation id of your choosing'
    if not isinstance(sender, str):
        return '"sender" must be a string'
    if not 0 < len(sender) <= MAX_SENDER_CHARS:
        return f'"sender" must be 1 to {MAX_SENDER_CHARS} characters'
    if not storable(sender):  # an id is refused, not changed to fit: it would name another
        return '"sender" must be text: it holds a lone surrogate (\\ud800-\\udfff)'
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return '"metadata" must be a JSON object'
    return None


def reply_language(body: dict[str, Any]) -> Lang | None:
    """The language a reply to a valid body is in: the client's `language`, else its text's
    (none for a typed /intent{...}, whose words are not the visitor's)."""
    language = kept_metadata(body.get("metadata")).get("language")
    message = body["message"]
    return language or (None if message.lstrip().startswith("/") else detect_language(message))


def slow_down_reply(body: dict[str, Any], retry_after_s: int) -> HTTPResponse:
    """429, shaped like a normal reply: one bot message saying "please slow down"."""
    message = {"recipient_id": body["sender"], "text": slow_down(reply_language(body))}
    return json([message], status=429, headers={"Retry-After": str(retry_after_s)})


class OutboxDelivery:
    """REST clients cannot be pushed to: staff replies wait in the desk's outbox and are
    returned, before the bot's messages, with the client's next request."""

    def __init__(self, store: DeskStore) -> None:
        self.store = store

    async def send(
        self, conversation_id: str, text: str, staff_name: str | None, *, at: float | None = None
    ) -> int:
        recipient(REST, conversation_id)  # a legacy or another channel's id: refused
        await asyncio.to_thread(self.store.queue_outgoing, conversation_id, text, staff_name or "")
        return 1

    async def notify(self, conversation_id: str, state: dict[str, Any]) -> None:
        return None  # nothing to push to; the client sees the replies themselves


def with_outgoing(body: bytes, sender: str, outgoing: list[Any]) -> list[dict[str, Any]]:
    """Rasa's reply list with the waiting staff messages first, all addressed to `sender` (the
    caller's own name, not the conversation id Rasa answered)."""
    staff: list[dict[str, Any]] = []
    for message in outgoing:
        item: dict[str, Any] = {"recipient_id": sender, "text": message.text}
        if message.sender_name:
            item["staff"] = {"name": message.sender_name}
        staff.append(item)
    replies = jsonlib.loads(body or b"[]")
    bot = [
        {**reply, "recipient_id": sender} if isinstance(reply, dict) else reply
        for reply in (replies if isinstance(replies, list) else [])
    ]
    return staff + bot


class CallerQueueOutput(QueueOutputChannel):
    """The streamed replies (`?stream=true`), addressed to the caller's sender as well."""

    async def _persist_message(self, message: dict[str, Any]) -> None:
        raw = split_conversation_id(str(message.get("recipient_id", "")))[1]
        await super()._persist_message({**message, "recipient_id": raw})


class ValidatingRestInput(RestInput):
    def __init__(
        self, store: DeskStore | None = None, rate_limiter: RateLimiter | None = None
    ) -> None:
        self._store = store
        self._rate_limiter = rate_limiter

    @classmethod
    def name(cls) -> str:
        return "rest"

    @property
    def store(self) -> DeskStore:
        if self._store is None:  # on first use: importing the channel stays cheap
            self._store = shared_desk_store()
        return self._store

    @property
    def rate_limiter(self) -> RateLimiter:
        if self._rate_limiter is None:  # with the routes: the environment of the server
            self._rate_limiter = RateLimiter.from_env()
        return self._rate_limiter

    @staticmethod
    async def on_message_wrapper(
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        queue: asyncio.Queue,
        sender_id: str,
        input_channel: str,
        metadata: dict[str, Any] | None,
    ) -> None:
        """Rasa's, with the caller-facing output (the streamed variant of the webhook)."""
        collector = CallerQueueOutput(queue)
        message = UserMessage(
            text, collector, sender_id, input_channel=input_channel, metadata=metadata
        )
        await on_new_message(message)
        await queue.put("DONE")

    # What Rasa's handler reads from a body that passed `body_problem`:
    async def _extract_sender(self, req: Request) -> str:
        return conversation_id(REST, req.json["sender"])

    def _extract_message(self, req: Request) -> str | None:
        language = self.get_metadata(req).get("language")
        message = without_lone_surrogates(req.json["message"])
        return checked_payload(message, payload_rules(), language)

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any]:
        return kept_metadata(request.json.get("metadata"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        payload_rules()  # domain.yml read now, not on a visitor's first /intent
        limiter = self.rate_limiter  # a bad override in the environment stops the start here

        @webhook.middleware("request")
        async def reject_malformed_body(request: Request) -> HTTPResponse | None:
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            try:
                body = request.json
            except Exception:  # Sanic raises its own 400 type; the reply should say why
                body = None
            problem = body_problem(body)
            return json({"error": problem}, status=400) if problem else None

        # after the body check (Sanic runs request middleware in order): `sender` is valid here
        @webhook.middleware("request")
        async def slow_down_flooders(request: Request) -> HTTPResponse | None:
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            body = request.json
            verdict = await limiter.hit_all(
                ("conversation", conversation_id(REST, body["sender"])),
                ("ip", client_ip(request)),
            )
            if verdict.allowed:
                return None
            await limiter.hold_refusal(verdict)
            return slow_down_reply(body, verdict.retry_after_s)

        @webhook.middleware("response")
        async def add_staff_replies(request: Request, response: HTTPResponse) -> Any:
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            sender = (request.json or {}).get("sender") if response.status == 200 else None
            body = getattr(response, "body", None)  # a ResponseStream has none: CallerQueueOutput
            if not sender or body is None:
                return None
            conversation = conversation_id(REST, sender)
            outgoing = await asyncio.to_thread(self.store.take_outgoing, conversation)
            return json(with_outgoing(body, sender, outgoing))

        @webhook.listener("before_server_start")
        async def offer_delivery(app: Any, _: Any) -> None:
            register_delivery(app, "rest", OutboxDelivery(self.store))

        return webhook
