"""The widget's sessions over real socket.io connections (issue #15: conversations no one else
can use): the server issues and signs session ids, a socket is bound to the one session it
proved it holds, and events go to that session's conversation whatever they name.

The widget channel runs in a Sanic app built as Rasa builds it, on a loopback port, with a
recording agent that echoes each message (no model); python-socketio's AsyncClient plays the
browsers, over polling (engineio's WebSocket client needs a newer aiohttp than Rasa pins).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import socketio
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bot.channels import webchat
from bot.channels.webchat import WebChatInput
from bot.channels.widget_sessions import SECRET_ENV, valid_session_id
from bot.limits import RATE_LIMITS_SWITCH_ENV
from ops.harness import free_port

QUIET_S = 0.5  # how long a socket that must receive nothing is watched after the owner's reply


class EchoAgent:
    """Rasa's agent as the channel sees it: records each message, answers "<conversation>:<text>"
    to the conversation (its room)."""

    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        reply = f"{message.sender_id}|{message.text}"
        await message.output_channel.send_text_message(message.sender_id, reply)


class FakeDesk:
    """The desk's store as the widget channel uses it: no handoffs, feedback recorded."""

    def __init__(self) -> None:
        self.feedback: list[tuple[Any, ...]] = []

    def active_handoff(self, conversation_id: str) -> None:
        return None

    def add_feedback(self, *given: Any) -> None:
        self.feedback.append(given)


@pytest.fixture()
def desk(monkeypatch: pytest.MonkeyPatch) -> FakeDesk:
    fake = FakeDesk()
    monkeypatch.setattr(webchat, "shared_desk_store", lambda: fake)
    return fake


@pytest.fixture()
def app(monkeypatch: pytest.MonkeyPatch, desk: FakeDesk) -> Sanic:
    monkeypatch.delenv("CYBERWEEK_CORS_ORIGINS", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv(SECRET_ENV, "a-test-secret-of-more-than-32-characters")
    # the sockets come from one address faster than people: rates have their own tests
    monkeypatch.setenv(RATE_LIMITS_SWITCH_ENV, "off")
    app = Sanic(f"sessions_test_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = EchoAgent()
    register([WebChatInput(session_persistence=True)], app, route="/webhooks/")  # type: ignore[arg-type]
    return app


def serve(app: Sanic, scenario: Callable[[str], Awaitable[Any]]) -> Any:
    """Runs `scenario(server_url)` against the app on a loopback port; its result."""
    port = free_port()
    outcome: dict[str, Any] = {}

    @app.listener("after_server_start")
    async def drive(app: Sanic, _: Any) -> None:
        try:
            outcome["result"] = await asyncio.wait_for(scenario(f"http://127.0.0.1:{port}"), 60)
        except BaseException as error:  # re-raised in the test, outside the server's loop
            outcome["error"] = error
        finally:
            app.stop()

    app.run(host="127.0.0.1", port=port, access_log=False, register_sys_signals=False)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


class Browser:
    """One widget's socket: what it was confirmed, and every bot message it received."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient()
        self.confirmed: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.replies: list[str] = []
        self.client.on("session_confirm", self._on_confirm)
        self.client.on("bot_uttered", self._on_reply)

    async def _on_confirm(self, session_id: str, token: str | None = None) -> None:
        await self.confirmed.put((session_id, token or ""))

    async def _on_reply(self, data: Any) -> None:
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            self.replies.append(data["text"])

    async def open(self, url: str, **asked: Any) -> tuple[str, str]:
        """Connects and asks for a session (`asked`: what it presents); the confirmed one."""
        await self.client.connect(url, transports=["polling"])
        return await self.ask_session(**asked)

    async def ask_session(self, **asked: Any) -> tuple[str, str]:
        await self.client.emit("session_request", asked)
        return await asyncio.wait_for(self.confirmed.get(), 10)

    async def say(self, text: str, **extra: Any) -> str:
        """Sends a message and waits for the reply this socket receives for it."""
        before = len(self.replies)
        await self.client.emit("user_uttered", {"message": text, **extra})
        for _ in range(100):
            if len(self.replies) > before:
                return self.replies[-1]
            await asyncio.sleep(0.1)
        raise AssertionError(f"no reply to {text!r}")

    async def close(self) -> None:
        """Leaves without waiting for the polling transport's pending GET to end (~30 s)."""
        try:
            await asyncio.wait_for(self.client.disconnect(), 0.5)
        except asyncio.TimeoutError:
            pass


@contextlib.asynccontextmanager
async def browsers(count: int) -> AsyncIterator[list[Browser]]:
    """`count` widgets' sockets, all closed when the scenario leaves the block (even failing)."""
    opened = [Browser() for _ in range(count)]
    try:
        yield opened
    finally:
        for browser in opened:
            await browser.close()


def test_a_new_widget_gets_a_server_issued_signed_session(app: Sanic) -> None:
    async def scenario(url: str) -> tuple[tuple[str, str], str]:
        async with browsers(1) as (visitor,):
            return await visitor.open(url), await visitor.say("hi")

    (session_id, token), reply = serve(app, scenario)
    assert valid_session_id(session_id) and token
    assert reply == f"web:{session_id}|hi"
    assert [m.sender_id for m in app.ctx.agent.messages] == [f"web:{session_id}"]


def test_a_returning_widget_keeps_its_session_with_its_token(app: Sanic) -> None:
    async def scenario(url: str) -> tuple[str, str, str]:
        async with browsers(2) as (first, again):
            session_id, token = await first.open(url)
            await first.close()  # the page reloaded: a new socket
            returned, _ = await again.open(url, session_id=session_id, token=token)
            return session_id, returned, await again.say("还在吗")

    session_id, returned, reply = serve(app, scenario)
    assert returned == session_id
    assert reply == f"web:{session_id}|还在吗"


def _other_last_digit(token: str) -> str:
    """The token with its MAC's last hex digit changed (a fixed "0" matched 1 run in 16)."""
    return token[:-1] + ("1" if token.endswith("0") else "0")


@pytest.mark.parametrize(
    "presented",
    [
        lambda sid, token: {"session_id": sid},  # the id alone, as the old widget sent it
        lambda sid, token: {"session_id": sid, "token": ""},
        lambda sid, token: {"session_id": sid, "token": _other_last_digit(token)},
        lambda sid, token: {"session_id": sid, "token": token.split(".")[0]},
        lambda sid, token: {"session_id": sid, "token": None, "since": 0},
    ],
    ids=["no-token", "empty-token", "wrong-mac", "time-only", "null-token"],
)
def test_naming_another_visitors_session_without_its_token_gives_a_new_one(
    app: Sanic, presented: Callable[[str, str], dict[str, Any]]
) -> None:
    """The intruder gets a fresh session, receives none of the visitor's replies, and its
    own messages land in its own conversation."""

    async def scenario(url: str) -> dict[str, Any]:
        async with browsers(2) as (visitor, intruder):
            session_id, token = await visitor.open(url)
            intruders, _ = await intruder.open(url, **presented(session_id, token))
            visitor_reply = await visitor.say("我的证件号是多少")
            await asyncio.sleep(QUIET_S)
            intruder_heard = list(intruder.replies)
            intruder_reply = await intruder.say("我刚才说了什么")
            await asyncio.sleep(QUIET_S)
            return {
                "session": session_id,
                "intruders": intruders,
                "visitor_reply": visitor_reply,
                "intruder_heard": intruder_heard,
                "intruder_reply": intruder_reply,
                "seen": {"visitor": list(visitor.replies), "intruder": list(intruder.replies)},
            }

    got = serve(app, scenario)
    assert got["intruders"] != got["session"] and valid_session_id(got["intruders"])
    assert got["visitor_reply"] == f"web:{got['session']}|我的证件号是多少"
    assert got["intruder_heard"] == []
    assert got["intruder_reply"] == f"web:{got['intruders']}|我刚才说了什么"
    assert got["seen"]["visitor"] == [got["visitor_reply"]]  # not the intruder's reply either
    senders = [m.sender_id for m in app.ctx.agent.messages]
    assert senders == [f"web:{got['session']}", f"web:{got['intruders']}"]


def test_a_session_id_in_the_message_is_ignored(app: Sanic) -> None:
    """`user_uttered` naming another session goes to the socket's own conversation."""

    async def scenario(url: str) -> dict[str, Any]:
        async with browsers(2) as (visitor, intruder):
            session_id, _ = await visitor.open(url)
            intruders, _ = await intruder.open(url)
            reply = await intruder.say("写进别人的对话", session_id=session_id)
            await asyncio.sleep(QUIET_S)
            return {"intruders": intruders, "reply": reply, "heard": list(visitor.replies)}

    got = serve(app, scenario)
    assert got["reply"] == f"web:{got['intruders']}|写进别人的对话"
    assert got["heard"] == []
    assert [m.sender_id for m in app.ctx.agent.messages] == [f"web:{got['intruders']}"]


def test_feedback_goes_to_the_sockets_own_conversation(app: Sanic, desk: FakeDesk) -> None:
    async def scenario(url: str) -> tuple[str, str]:
        async with browsers(2) as (visitor, intruder):
            session_id, _ = await visitor.open(url)
            intruders, _ = await intruder.open(url)
            await intruder.client.emit(
                "feedback",
                {"session_id": session_id, "helpful": False, "question": "q", "answer": "a"},
            )
            for _ in range(50):
                if desk.feedback:
                    break
                await asyncio.sleep(0.1)
            return session_id, intruders

    session_id, intruders = serve(app, scenario)
    assert desk.feedback == [(f"web:{intruders}", False, "q", "a")]


def test_a_socket_is_in_its_current_sessions_room_only(app: Sanic) -> None:
    """A socket that moves to another session it holds leaves the first one's room."""

    async def scenario(url: str) -> dict[str, Any]:
        async with browsers(3) as (mover, other, first_again):
            first, first_token = await mover.open(url)
            second, second_token = await other.open(url)
            moved, _ = await mover.ask_session(session_id=second, token=second_token)
            await first_again.open(url, session_id=first, token=first_token)
            reply_to_first = await first_again.say("给第一个对话")
            await asyncio.sleep(QUIET_S)
            mover_heard = list(mover.replies)
            return {
                "first": first,
                "second": second,
                "moved": moved,
                "reply_to_first": reply_to_first,
                "mover_heard": mover_heard,
                "reply_to_mover": await mover.say("现在在第二个对话"),
            }

    got = serve(app, scenario)
    assert got["moved"] == got["second"]
    assert got["reply_to_first"] == f"web:{got['first']}|给第一个对话"
    assert got["mover_heard"] == []
    assert got["reply_to_mover"] == f"web:{got['second']}|现在在第二个对话"


def test_a_message_before_any_session_is_dropped(app: Sanic) -> None:
    async def scenario(url: str) -> list[str]:
        async with browsers(1) as (sneak,):
            await sneak.client.connect(url, transports=["polling"])
            await sneak.client.emit("user_uttered", {"message": "hi", "session_id": "a" * 32})
            await asyncio.sleep(QUIET_S)
        return sneak.replies

    assert serve(app, scenario) == []
    assert app.ctx.agent.messages == []
