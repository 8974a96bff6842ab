"""The WeChat channel's input bounds (issue #15), without a server: the body cap (the webhook
streams its body, so Sanic's own cap does not apply there), the message cut and the typed
/intent{...} check before Rasa."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.wechat.channel import WeChatInput, _read_limited
from bot.channels.wechat.config import SettingsError, WeChatSettings, load_settings
from bot.channels.wechat.protocol import Inbound, Rejected
from bot.limits import MAX_BODY_BYTES, MAX_MESSAGE_CHARS


class Chunks:
    """A streamed request body, as Sanic hands it to a streaming handler."""

    def __init__(self, size: int, chunk: int = 4096) -> None:
        self.left, self.chunk = size, chunk

    def __aiter__(self) -> Chunks:
        return self

    async def __anext__(self) -> bytes:
        if self.left <= 0:
            raise StopAsyncIteration
        part = min(self.left, self.chunk)
        self.left -= part
        return b"x" * part


def request(size: int, declared: bool) -> Any:
    headers = {"content-length": str(size)} if declared else {}
    return SimpleNamespace(headers=headers, stream=Chunks(size))


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_the_cap_gets_413(declared: bool) -> None:
    with pytest.raises(Rejected) as refused:
        asyncio.run(_read_limited(request(MAX_BODY_BYTES + 1, declared), MAX_BODY_BYTES))
    assert refused.value.status == 413


def test_a_body_at_the_cap_is_read() -> None:
    body = asyncio.run(_read_limited(request(MAX_BODY_BYTES, False), MAX_BODY_BYTES))
    assert len(body) == MAX_BODY_BYTES


def test_the_cap_cannot_be_raised_in_credentials() -> None:
    assert WeChatSettings().max_body_bytes == MAX_BODY_BYTES
    with pytest.raises(SettingsError, match="max_body_bytes"):
        load_settings({"max_body_bytes": 20_000_000}, environ={})


def asked(text: str) -> str:
    """The text Rasa gets for a follower's text message."""
    seen: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        seen.append(message)

    inbound = Inbound(None, "openid-1", "text", "", text, "msg-1")  # type: ignore[arg-type]
    asyncio.run(WeChatInput(WeChatSettings())._answer(inbound, on_new_message))
    (message,) = seen
    return message.text


def test_a_long_message_is_cut_and_still_answered() -> None:
    assert asked("开" * (MAX_MESSAGE_CHARS + 100)) == "开" * MAX_MESSAGE_CHARS


def test_a_typed_payload_is_checked() -> None:
    assert asked('/inform{"day_offset":"999999999"}') == "/inform"
    assert asked("/not_an_intent") == "not_an_intent"
    assert asked("/request_human") == "/request_human"
