"""The widget's socket.io channel: allowed origins, session ids, the files it serves."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from typing import Any

import pytest

from bot.channels.cors import OriginError, allowed_origins
from bot.channels.webchat import origin_check, valid_session_id

ENV = "CYBERWEEK_CORS_ORIGINS"


def test_no_other_origin_by_default() -> None:
    assert allowed_origins({}) is None
    assert allowed_origins({ENV: "  "}) is None


def test_listed_origins_are_normalised() -> None:
    listed = allowed_origins({ENV: "https://WWW.Example.cn/, http://127.0.0.1:8080"})
    assert listed == ["https://www.example.cn", "http://127.0.0.1:8080"]
    assert allowed_origins({ENV: "https://a.cn *"}) == ["*"]


@pytest.mark.parametrize("bad", ["www.example.cn", "ftp://example.cn", "https://a.cn/page"])
def test_a_bad_origin_is_refused_with_its_name(bad: str) -> None:
    with pytest.raises(OriginError, match=bad.replace(".", r"\.")):
        allowed_origins({ENV: bad})


def test_origin_check_allows_the_servers_own_origin_and_the_listed_ones() -> None:
    allowed = origin_check(["https://www.example.cn"])
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:5005"}
    assert allowed("http://127.0.0.1:5005", environ)
    assert allowed("https://www.example.cn", environ)
    assert not allowed("https://evil.example", environ)
    proxied = {
        "wsgi.url_scheme": "https",
        "HTTP_HOST": "rasa:5005",
        "HTTP_X_FORWARDED_HOST": "bot.example.cn",
    }
    assert allowed("https://bot.example.cn", proxied)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("0123456789abcdef0123456789abcdef", True),
        ("short", False),
        ("a" * 65, False),
        ("../../etc", False),
        (None, False),
        (12345678, False),
        ({"$ne": 1}, False),
    ],
)
def test_session_ids(value: object, valid: bool) -> None:
    assert valid_session_id(value) is valid


def status_of(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_running_channel_refuses_other_origins(rasa_server: str) -> None:
    base = rasa_server.removesuffix("/webhooks/rest/webhook")
    handshake = f"{base}/socket.io/?EIO=4&transport=polling"
    assert status_of(handshake, {"Origin": base}) == 200
    assert status_of(handshake, {"Origin": "https://evil.example"}) == 400


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("demo/", 200),
        ("widget/cyberweek-chat.js", 200),
        ("widget/cyberweek-chat.css", 200),
        ("widget/socket.io.min.js", 200),
        ("widget/package.json", 404),
        ("widget/..%2F..%2Fwebchat.py", 404),
        ("widget/", 404),
    ],
)
def test_the_widget_files_and_nothing_else(rasa_server: str, path: str, status: int) -> None:
    base = rasa_server.removesuffix("/webhooks/rest/webhook")
    assert status_of(f"{base}/webhooks/socketio/{path}") == status


def test_a_returning_widget_gets_only_the_desks_messages_it_missed() -> None:
    from rasa.shared.core.events import BotUttered, ConversationPaused, UserUttered

    from bot.channels.webchat import missed_desk_messages
    from bot.desk.transcript import STAFF_KEY

    events = [
        UserUttered("转人工", timestamp=1.0),
        BotUttered("正在为您转接", timestamp=2.0),
        ConversationPaused(timestamp=2.0),
        BotUttered("您好", metadata={STAFF_KEY: "小王"}, timestamp=3.0),
        BotUttered("到B馆", metadata={STAFF_KEY: "小王"}, timestamp=4.0),
        BotUttered("已交还智能助手", timestamp=5.0),
    ]
    assert missed_desk_messages(events, 3.0) == [
        {"text": "到B馆", "staff": {"name": "小王"}, "at": 4.0},
        {"text": "已交还智能助手", "at": 5.0},
    ]
    assert missed_desk_messages(events[:2], 0) == []  # never handed over: nothing to replay


class RecordingSio:
    """python-socketio's server as the widget's delivery uses it: emits recorded."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, Any, str]] = []

    async def emit(self, event: str, data: Any, room: str, namespace: str | None = None) -> None:
        self.emitted.append((event, data, room))


def test_staff_replies_reach_the_widget_conversations_room_only() -> None:
    from bot.channels.delivery import DeliveryFailed
    from bot.channels.webchat import WidgetDelivery

    sio = RecordingSio()
    delivery = WidgetDelivery(sio, None, "bot_uttered")
    session = "0123456789abcdef0123456789abcdef"
    asyncio.run(delivery.send(f"web:{session}", "您好", "小王", at=5.0))
    asyncio.run(delivery.notify(f"web:{session}", {"status": "open", "staff": "小王"}))
    assert sio.emitted == [
        ("bot_uttered", {"text": "您好", "staff": {"name": "小王"}, "at": 5.0}, f"web:{session}"),
        ("bot_uttered", {"handoff": {"status": "open", "staff": "小王"}}, f"web:{session}"),
    ]
    for elsewhere in (session, f"wx:{session}", f"rest:{session}"):  # legacy, other channels
        with pytest.raises(DeliveryFailed):
            asyncio.run(delivery.send(elsewhere, "您好", "小王"))
        asyncio.run(delivery.notify(elsewhere, {"status": "closed"}))
    assert len(sio.emitted) == 2
