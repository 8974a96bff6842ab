"""The REST webhook and the widget's socket.io route in a Sanic app built as Rasa builds it,
with a recording agent in place of the model (issue #15: bounded input).

The app is created after `ops.rasa_entry.cap_request_sizes` set Sanic's variables, and the
channels are registered by Rasa's own `register` (rasa.core.run.configure_app does the same),
so the 413 comes from the real HTTP server. Sanic's test client (sanic-testing) talks to it
over loopback; no model, no action server.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic
from sanic.response import text

from bot.channels.rest import MAX_SENDER_CHARS, ValidatingRestInput
from bot.channels.webchat import WebChatInput
from bot.db.desk.models import CONVERSATION_ID_LEN
from bot.limits import MAX_BODY_BYTES, MAX_MESSAGE_CHARS
from ops.harness import free_port
from ops.rasa_entry import cap_request_sizes

WEBHOOK = "/webhooks/rest/webhook"


class RecordingAgent:
    """Rasa's agent as the channels see it: takes a message, says "ok"."""

    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, "ok")


class NoOutbox:
    """The desk's outbox with nothing waiting (no database); remembers who asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def take_outgoing(self, sender: str) -> list[Any]:
        self.asked.append(sender)
        return []

    def queue_outgoing(self, *args: Any) -> None:
        return None


@pytest.fixture()
def app(monkeypatch: pytest.MonkeyPatch) -> Sanic:
    env: dict[str, str] = {}
    cap_request_sizes(env)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CYBERWEEK_CORS_ORIGINS", raising=False)
    app = Sanic(f"rest_test_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = RecordingAgent()
    channels = [ValidatingRestInput(store=NoOutbox()), WebChatInput(session_persistence=True)]
    register(channels, app, route="/webhooks/")  # type: ignore[arg-type]
    return app


def post(app: Sanic, body: bytes | dict[str, Any], path: str = WEBHOOK) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    _, response = app.test_client.post(
        path, content=content, headers={"Content-Type": "application/json"}
    )
    return response


def received(app: Sanic) -> list[UserMessage]:
    return app.ctx.agent.messages


def status_of_declared_body(app: Sanic, path: str, length: int) -> int:
    """The status Sanic answers to a POST that declares a `length`-byte body, before any of it
    is sent: the cap is applied to Content-Length, so no body is needed, and none is left
    unread to make the server's close a reset (which made the test client flaky)."""
    port = free_port()
    replies: list[bytes] = []

    @app.listener("after_server_start")
    async def exchange(app: Sanic, _: Any) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n".encode()
        )
        await writer.drain()
        replies.append(await asyncio.wait_for(reader.readline(), 10))
        writer.close()
        app.stop()

    app.run(host="127.0.0.1", port=port, access_log=False, register_sys_signals=False)
    (status_line,) = replies
    return int(status_line.split()[1])


def test_app_takes_the_capped_body_size(app: Sanic) -> None:
    assert app.config.REQUEST_MAX_SIZE == MAX_BODY_BYTES
    assert app.config.WEBSOCKET_MAX_SIZE == MAX_BODY_BYTES


def test_a_well_formed_body_is_answered(app: Sanic) -> None:
    response = post(app, {"sender": "rest-1", "message": "hi", "metadata": {"language": "en"}})
    assert response.status == 200, response.text
    assert response.json == [{"recipient_id": "rest-1", "text": "ok"}]
    (message,) = received(app)
    assert (message.sender_id, message.text, message.metadata) == (
        "rest:rest-1",
        "hi",
        {"language": "en"},
    )


@pytest.mark.parametrize("sender", ["x", "wx:o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "web:" + "a" * 32])
def test_a_rest_sender_lands_in_a_rest_conversation(app: Sanic, sender: str) -> None:
    """A WeChat OpenID or a widget session sent as `sender` never reaches that conversation;
    the reply still names the caller's own sender (clients match on it)."""
    response = post(app, {"sender": sender, "message": "hi"})
    assert response.status == 200, response.text
    assert [m.sender_id for m in received(app)] == [f"rest:{sender}"]
    assert [r["recipient_id"] for r in response.json] == [sender]
    assert app.ctx.input_channels[0].store.asked == [f"rest:{sender}"]  # its outbox only


def test_the_streamed_replies_name_the_callers_sender_too(app: Sanic) -> None:
    body = json.dumps({"sender": "x", "message": "hi"}).encode()
    _, response = app.test_client.post(
        WEBHOOK + "?stream=true", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 200, response.text
    lines = [json.loads(line) for line in response.text.splitlines() if line]
    assert lines == [{"recipient_id": "x", "text": "ok"}]
    assert received(app)[0].sender_id == "rest:x"


def test_a_sender_that_would_not_fit_the_desk_gets_400(app: Sanic) -> None:
    fits = "s" * MAX_SENDER_CHARS
    assert len(f"rest:{fits}") == CONVERSATION_ID_LEN
    assert post(app, {"sender": fits, "message": "hi"}).status == 200
    assert post(app, {"sender": fits + "s", "message": "hi"}).status == 400


@pytest.mark.parametrize("length", [MAX_BODY_BYTES + 1, 20_000_000])
def test_a_body_over_the_cap_gets_413_and_never_reaches_rasa(app: Sanic, length: int) -> None:
    assert status_of_declared_body(app, WEBHOOK, length) == 413
    assert received(app) == []


def test_a_body_just_under_the_cap_is_read(app: Sanic) -> None:
    body = {"sender": "rest-1", "message": "hi", "metadata": {"junk": ""}}
    padding = MAX_BODY_BYTES - len(json.dumps(body).encode())
    body["metadata"]["junk"] = "x" * padding
    assert len(json.dumps(body).encode()) == MAX_BODY_BYTES
    assert post(app, body).status == 200


def test_metadata_other_than_the_language_is_dropped(app: Sanic) -> None:
    metadata = {"language": "fr", "admin": True, "nested": {"a": [1, 2, 3]}, "x": "y" * 1000}
    assert post(app, {"sender": "rest-1", "message": "hi", "metadata": metadata}).status == 200
    assert received(app)[0].metadata == {}


def test_a_body_without_sender_gets_400(app: Sanic) -> None:
    response = post(app, {"message": "开幕式在哪里"})
    assert response.status == 400
    assert "sender" in response.json["error"]
    assert received(app) == []


@pytest.mark.parametrize("length", [MAX_MESSAGE_CHARS + 1, 10_000])
def test_a_message_over_the_limit_gets_400(app: Sanic, length: int) -> None:
    response = post(app, {"sender": "rest-1", "message": "开" * length})
    assert response.status == 400
    assert str(MAX_MESSAGE_CHARS) in response.json["error"]
    assert received(app) == []


def test_a_message_at_the_limit_is_answered(app: Sanic) -> None:
    assert post(app, {"sender": "rest-1", "message": "开" * MAX_MESSAGE_CHARS}).status == 200
    assert len(received(app)[0].text) == MAX_MESSAGE_CHARS


def test_a_typed_payload_reaches_rasa_checked(app: Sanic) -> None:
    body = {"sender": "rest-1", "message": '/inform{"day_offset":"999999999","event":["a"]}'}
    assert post(app, body).status == 200
    assert received(app)[0].text == "/inform"


def test_a_client_cannot_claim_another_channel(app: Sanic) -> None:
    body = {"sender": "rest-1", "message": "hi", "input_channel": "wechat"}
    assert post(app, body).status == 200
    assert received(app)[0].input_channel == "rest"


def test_socketio_polling_body_over_the_cap_gets_413(app: Sanic) -> None:
    path = "/socket.io/?EIO=4&transport=polling&sid=none"
    assert status_of_declared_body(app, path, MAX_BODY_BYTES + 1) == 413


def test_any_other_route_gets_413_too(app: Sanic) -> None:
    """The cap is the app's, not a channel's: the desk console's routes get it alike."""

    @app.post("/webhooks/desk/api/login")
    async def login(request: Any) -> Any:
        return text("read")

    assert status_of_declared_body(app, "/webhooks/desk/api/login", MAX_BODY_BYTES + 1) == 413


def test_engineio_takes_the_same_cap(app: Sanic) -> None:
    webchat = app.ctx.input_channels[1]
    assert webchat.sio.eio.max_http_buffer_size == MAX_BODY_BYTES


# ------------------------------------------------------------------- the widget's messages
def widget_says(app: Sanic, data: dict[str, Any]) -> list[UserMessage]:
    """Runs the widget channel's `user_uttered` handler as socket.io would for one event, on
    a socket bound to SESSION (the binding itself: test_webchat_sessions.py)."""
    webchat = app.ctx.input_channels[1]

    async def bound(sid: str) -> str:
        return f"web:{SESSION}"

    webchat._bound_conversation = bound
    handler = webchat.sio.handlers["/"][webchat.user_message_evt]
    asyncio.run(handler("sid-1", data))
    return received(app)


SESSION = "0123456789abcdef0123456789abcdef"


def test_widget_message_is_cut_and_its_metadata_whitelisted(app: Sanic) -> None:
    data = {
        "message": "开" * (MAX_MESSAGE_CHARS + 10),
        "session_id": SESSION,
        "metadata": {"language": "en", "tracking": "x" * 1000},
    }
    (message,) = widget_says(app, data)
    assert message.text == "开" * MAX_MESSAGE_CHARS
    assert message.metadata == {"language": "en"}
    assert message.sender_id == f"web:{SESSION}"


def test_widget_typed_payload_is_checked(app: Sanic) -> None:
    data = {"message": '/inform{"day_offset":"999999999"}', "session_id": SESSION}
    assert widget_says(app, data)[0].text == "/inform"


def test_widget_buttons_still_work(app: Sanic) -> None:
    data = {"message": '/ask_venue{"event": "expo"}', "session_id": SESSION, "metadata": {}}
    assert widget_says(app, data)[0].text == '/ask_venue{"event":"expo"}'
