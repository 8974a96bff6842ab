"""HTTP plumbing of the console's API: errors as JSON, bounded bodies, headers, SSE."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, Awaitable, TypeVar

from sanic.request import Request

from bot.security_headers import security_headers

logger = logging.getLogger(__name__)


T = TypeVar("T")


COOKIE = "cyberweek_desk"
COOKIE_PATH = "/webhooks/desk"
MAX_BODY_BYTES = 16 * 1024


# The console's page and files: the headers of every page the assistant serves (no inline
# script, no framing, no Referer, nosniff), revalidated on every load.
PAGE_HEADERS = {**security_headers(), "Cache-Control": "no-cache"}


API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class ApiError(Exception):
    def __init__(self, status: int, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.status = status
        self.body = {"error": error, **extra}


async def run_sync(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The desk's SQL is synchronous: keep it off the server's event loop."""
    return await asyncio.to_thread(function, *args, **kwargs)


def json_body(request: Request) -> dict[str, Any]:
    if len(request.body or b"") > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise ApiError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def text_field(body: dict[str, Any], name: str, max_chars: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f'"{name}" must be a non-empty string')
    if len(value) > max_chars:
        raise ApiError(400, f'"{name}" is longer than {max_chars} characters')
    return value.strip()


def int_arg(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def over_https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.scheme == "https" or forwarded.split(",")[0].strip() == "https"


def client_address(request: Request) -> str:
    return (request.remote_addr or request.ip or "unknown")[:64]


def route(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A plain function around a bound method: Sanic marks handlers with attributes."""

    async def handler(request: Request, *args: Any, **kwargs: Any) -> Any:
        return await method(request, *args, **kwargs)

    handler.__name__ = method.__name__
    return handler


def sse_event(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"
