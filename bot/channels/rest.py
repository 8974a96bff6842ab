"""Rasa's REST channel, with the request body checked before Rasa reads it.

Rasa 3.6's RestInput trusts `request.json`: a JSON list, a number as "message" or an object as
"sender" ends in a 500 from deep inside Rasa, and a body without "sender" joins the one shared
conversation `default`. Here such a body gets a 400 that says what is wrong, and Rasa's own
handler runs for every valid one, with what it reads bounded (bot/channels/inbound.py): the
message at most MAX_MESSAGE_CHARS (longer: 400, this is a developer API), a typed /intent{...}
checked, only the metadata the product uses, and the channel always "rest" (a client cannot
claim to be the widget or WeChat). Bodies over 64 KiB never get here: Sanic answers 413
(ops/rasa_entry.py). Same name ("rest"), so the webhook stays at POST /webhooks/rest/webhook.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from bot.channels.delivery import register_delivery
from bot.channels.inbound import checked_payload, kept_metadata, payload_rules
from bot.db.desk import DeskStore, shared_desk_store
from bot.limits import MAX_MESSAGE_CHARS

MAX_SENDER_CHARS = 128


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
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return '"metadata" must be a JSON object'
    return None


class OutboxDelivery:
    """REST clients cannot be pushed to: staff replies wait in the desk's outbox and are
    returned, before the bot's messages, with the client's next request."""

    def __init__(self, store: DeskStore) -> None:
        self.store = store

    async def send(
        self, conversation_id: str, text: str, staff_name: str | None, *, at: float | None = None
    ) -> int:
        await asyncio.to_thread(self.store.queue_outgoing, conversation_id, text, staff_name or "")
        return 1

    async def notify(self, conversation_id: str, state: dict[str, Any]) -> None:
        return None  # nothing to push to; the client sees the replies themselves


def with_outgoing(body: bytes, sender: str, outgoing: list[Any]) -> list[dict[str, Any]]:
    """Rasa's reply list with the waiting staff messages first."""
    staff: list[dict[str, Any]] = []
    for message in outgoing:
        item: dict[str, Any] = {"recipient_id": sender, "text": message.text}
        if message.sender_name:
            item["staff"] = {"name": message.sender_name}
        staff.append(item)
    replies = jsonlib.loads(body or b"[]")
    return staff + (replies if isinstance(replies, list) else [])


class ValidatingRestInput(RestInput):
    def __init__(self, store: DeskStore | None = None) -> None:
        self._store = store

    @classmethod
    def name(cls) -> str:
        return "rest"

    @property
    def store(self) -> DeskStore:
        if self._store is None:  # on first use: importing the channel stays cheap
            self._store = shared_desk_store()
        return self._store

    # What Rasa's handler reads from a body that passed `body_problem`:
    def _extract_message(self, req: Request) -> str | None:
        language = self.get_metadata(req).get("language")
        return checked_payload(req.json["message"], payload_rules(), language)

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any]:
        return kept_metadata(request.json.get("metadata"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        payload_rules()  # domain.yml read now, not on a visitor's first /intent

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

        @webhook.middleware("response")
        async def add_staff_replies(request: Request, response: HTTPResponse) -> Any:
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            sender = (request.json or {}).get("sender") if response.status == 200 else None
            if not sender:
                return None
            outgoing = await asyncio.to_thread(self.store.take_outgoing, sender)
            return json(with_outgoing(response.body, sender, outgoing)) if outgoing else None

        @webhook.listener("before_server_start")
        async def offer_delivery(app: Any, _: Any) -> None:
            register_delivery(app, "rest", OutboxDelivery(self.store))

        return webhook
