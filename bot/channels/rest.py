"""Rasa's REST channel, with the request body checked before Rasa reads it.

Rasa 3.6's RestInput trusts `request.json`: a JSON list, a number as "message" or an object as
"sender" ends in a 500 from deep inside Rasa. Here such a body gets a 400 that says what is
wrong, and Rasa's own handler runs unchanged for every valid one. Same name ("rest"), so the
webhook stays at POST /webhooks/rest/webhook.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

# The NLU reads the first 500 characters; a long paste still gets an answer, a megabyte does not.
MAX_MESSAGE_CHARS = 100_000
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
    if sender is not None and not isinstance(sender, str):
        return '"sender" must be a string'
    if sender is not None and not 0 < len(sender) <= MAX_SENDER_CHARS:
        return f'"sender" must be 1 to {MAX_SENDER_CHARS} characters'
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return '"metadata" must be a JSON object'
    return None


class ValidatingRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

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

        return webhook
