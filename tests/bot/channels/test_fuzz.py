"""A fuzzed surface, fast layer (issue #15, item 7): random and hostile input to the three
public channels, with a stand-in agent in place of the model.

REST and the widget's socket.io run in a Sanic app built as Rasa builds it (request sizes
capped by ops.rasa_entry, channels registered by Rasa's `register`), served on a loopback port;
the examples are sent from a thread, over HTTP and a python-socketio client, so that the real
HTTP server, engine.io and socket.io read them. WeChat's webhook gets signed (plain and safe
mode) and unsigned pushes through Sanic's ASGI client. Every example must get a reply or a
clear 4xx, never a 5xx, never an ERROR record or a traceback in the log; what reaches the
agent must be bounded and checked (bot/channels/inbound.py). What the examples are and how to
run more: tests/bot/channels/fuzz.py. The same against the real assistant: test_fuzz_live.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bot.channels import webchat
from bot.channels.inbound import checked_payload, payload_rules, storable
from bot.channels.rest import ValidatingRestInput
from bot.channels.webchat import WebChatInput
from bot.channels.wechat.channel import WeChatInput
from bot.channels.wechat.simulator import Push, WeChatSimulator, sign
from bot.channels.widget_sessions import SECRET_ENV
from bot.db.desk import DeskStore
from bot.limits import MAX_BODY_BYTES, MAX_MESSAGE_CHARS, RATE_LIMITS_SWITCH_ENV
from bot.rate_limits import RateLimiter, rules_from_env
from ops.rasa_entry import cap_request_sizes
from tests.bot.channels.fuzz import (
    Widget,
    fuzz_settings,
    hostile_text,
    json_values,
    rest_bodies,
    trapped_errors,
    wechat_bodies,
)
from tests.bot.channels.test_webchat_sessions import EchoAgent, serve
from tests.bot.channels.wechat.stand_in import ACCOUNT, RecordingBot, account_settings
from tests.bot.channels.wechat.stand_in import WEBHOOK as WECHAT_WEBHOOK

WEBHOOK = "/webhooks/rest/webhook"
RULES = payload_rules()


class NoOutbox:
    def take_outgoing(self, sender: str) -> list[Any]:
        return []

    def queue_outgoing(self, *args: Any) -> None:
        return None


def assert_checked(message: UserMessage, prefix: str) -> None:
    """What reached the agent is bounded and checked, whatever was sent."""
    assert message.sender_id.startswith(prefix)
    assert isinstance(message.text, str) and len(message.text) <= MAX_MESSAGE_CHARS + 20
    assert checked_payload(message.text, RULES) == message.text  # a payload, checked
    assert storable(message.sender_id) and storable(message.text)  # UTF-8 stores take them
    assert set(message.metadata or {}) <= {"language"}


class CountingDesk:
    """The desk's store as the widget uses it, counting the 👍/👎 it was handed and stored:
    the channel stores them on a thread after the socket has moved on, and an example's log
    must hold that example's failure, not the next one's."""

    def __init__(self, store: DeskStore) -> None:
        self.store = store
        self.handed = 0
        self.finished = 0

    @property
    def add_feedback(self) -> Callable[..., None]:
        self.handed += 1  # read on the event loop, before the thread starts

        def store(*given: Any) -> None:
            try:
                self.store.add_feedback(*given)
            finally:
                self.finished += 1

        return store

    def wait_until_stored(self) -> None:
        deadline = time.monotonic() + 5
        while self.finished < self.handed and time.monotonic() < deadline:
            time.sleep(0.002)


@pytest.fixture()
def app(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Sanic:
    env: dict[str, str] = {}
    cap_request_sizes(env)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(RATE_LIMITS_SWITCH_ENV, "off")  # the examples come faster than a person
    monkeypatch.setenv(SECRET_ENV, "a-test-secret-of-more-than-32-characters")
    monkeypatch.delenv("CYBERWEEK_CORS_ORIGINS", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    # the widget's 👍/👎 go to a real desk store (SQLite), as in production
    store = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}")
    store.ensure_schema()
    desk = CountingDesk(store)
    monkeypatch.setattr(webchat, "shared_desk_store", lambda: desk)
    app = Sanic(f"fuzz_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = EchoAgent()
    app.ctx.desk = desk
    channels = [ValidatingRestInput(store=NoOutbox()), WebChatInput(session_persistence=True)]
    register(channels, app, route="/webhooks/")  # type: ignore[arg-type]
    return app


def in_a_thread(app: Sanic, check: Callable[[str], None]) -> None:
    """Serves `app` on a loopback port while `check(server_url)` runs in a thread of its
    own (hypothesis drives it synchronously; the server's loop stays free)."""

    async def scenario(url: str) -> None:
        await asyncio.to_thread(check, url)

    serve(app, scenario)


# ------------------------------------------------------------------------------- REST
def http_post(url: str, path: str, body: bytes) -> tuple[int, bytes]:
    """POST `body` over a fresh connection; (status, body). A body over the cap is announced
    first and sent only if the server has not already answered (a refused body left unread
    turns the server's close into a reset that hides the 413)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        if len(body) <= MAX_BODY_BYTES:
            conn.sendall(head + body)
            return read_response(conn)
        conn.sendall(head)
        conn.settimeout(1)
        try:
            return read_response(conn)
        except (TimeoutError, socket.timeout):  # it waits for the body: send it
            conn.settimeout(10)
            conn.sendall(body)
            return read_response(conn)


def read_response(conn: socket.socket) -> tuple[int, bytes]:
    """One HTTP/1.1 response: its status and its Content-Length bytes of body."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {received[:200]!r}")
        received += chunk
    head, _, content = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    length = int(headers.get("content-length", "0"))
    while len(content) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        content += chunk
    return int(lines[0].split()[1]), content


def test_rest_answers_any_body_with_a_reply_or_a_clear_4xx(app: Sanic) -> None:
    agent: EchoAgent = app.ctx.agent

    def check(url: str) -> None:
        @given(body=rest_bodies())
        @fuzz_settings(200)
        def one_body(body: bytes) -> None:
            before = len(agent.messages)
            with trapped_errors() as trap:
                status, content = http_post(url, WEBHOOK, body)
            assert not trap.records, trap.report()
            assert status in (200, 400, 413), (status, content[:300])
            reached = agent.messages[before:]
            if status != 200:
                assert content.strip(), "a 4xx says why"
                assert reached == []
                return
            (message,) = reached
            sender = json.loads(body)["sender"]
            assert message.sender_id == f"rest:{sender}" and message.input_channel == "rest"
            assert_checked(message, "rest:")
            replies = json.loads(content)
            assert replies and all(r["recipient_id"] == sender for r in replies)

        one_body()

    in_a_thread(app, check)
    assert agent.messages, "some examples were well-formed enough to reach the agent"


# -------------------------------------------------------------------------- socket.io
def socket_payloads() -> st.SearchStrategy[tuple[str, Any]]:
    """(event, data) the widget's server events may receive: right shapes with wrong types,
    any JSON, none at all (None: no argument), several arguments (a tuple)."""
    anything = json_values | hostile_text()
    well_formed_message = st.fixed_dictionaries(
        {"message": hostile_text()},
        optional={"metadata": st.fixed_dictionaries({"language": st.sampled_from(["zh", "en"])})},
    )
    message = well_formed_message | st.fixed_dictionaries(
        {},
        optional={
            "message": hostile_text() | json_values,
            "session_id": anything,
            "metadata": json_values | st.fixed_dictionaries({"language": anything}),
            "customData": json_values,
        },
    )
    session = st.fixed_dictionaries(
        {},
        optional={
            "session_id": st.sampled_from(["a" * 32, "0" * 8, ""]) | anything,
            "token": st.sampled_from(["1.ab", "9" * 12 + "." + "f" * 64]) | anything,
            "since": st.sampled_from([0, -1, 1e308, 2**70, True]) | anything,
        },
    )
    well_formed_feedback = st.fixed_dictionaries(
        {"helpful": st.booleans(), "question": hostile_text(), "answer": hostile_text()}
    )
    feedback = well_formed_feedback | st.fixed_dictionaries(
        {},
        optional={
            "helpful": st.booleans() | anything,
            "question": hostile_text(),
            "answer": hostile_text(),
            "session_id": anything,
        },
    )
    extra = st.none() | json_values | st.tuples(json_values, json_values)
    return st.one_of(
        st.tuples(st.just("user_uttered"), message | extra),
        st.tuples(st.just("session_request"), session | extra),
        st.tuples(st.just("feedback"), feedback | extra),
    )


def frame_bytes(name: str, data: Any) -> int:
    """About what the event weighs on the wire (python-socketio's JSON, \\uXXXX escapes)."""
    args = [] if data is None else list(data) if isinstance(data, tuple) else [data]
    return len(json.dumps([name, *args]).encode())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Sanic 21.12's websockets
def test_socketio_events_never_break_the_widget(app: Sanic) -> None:
    agent: EchoAgent = app.ctx.agent
    desk: CountingDesk = app.ctx.desk

    def check(url: str) -> None:
        widgets = [Widget(url)]

        @given(event=socket_payloads())
        @fuzz_settings(200)
        def one_event(event: tuple[str, Any]) -> None:
            name, data = event
            if not widgets[-1].client.connected:  # an earlier example's frame was too big
                widgets.append(Widget(url))
            widget = widgets[-1]
            before, handed = len(agent.messages), desk.handed
            oversized = frame_bytes(name, data) > MAX_BODY_BYTES - 100
            with trapped_errors() as trap:
                widget.drain()
                widget.send(name, data)
                if oversized:  # engine.io refuses the frame (400/413) and the socket closes
                    widget.client.sleep(0.3)
                    widgets.append(Widget(url))
                    widget = widgets[-1]
                elif name == "session_request":  # a new session, or the same one again
                    widget.session = widget.confirmed.get(timeout=10)[0]
                widget.still_answers()
                if desk.handed > handed:  # stored on a thread, its failure logged after it
                    desk.wait_until_stored()
                    widget.still_answers()
            assert not trap.records, trap.report()
            for message in agent.messages[before:]:
                assert message.sender_id == f"web:{widget.session}"
                assert_checked(message, "web:")

        try:
            one_event()
        finally:
            for widget in widgets:
                widget.close()

    in_a_thread(app, check)
    assert desk.finished, "some 👍/👎 were well-formed enough to be stored"


# ----------------------------------------------------------------------------- WeChat
_wechat_apps = itertools.count()


def wechat_app(mode: str, bot: RecordingBot) -> Sanic:
    settings = account_settings(mode)
    unlimited = RateLimiter(rules_from_env({}), enabled=False)
    app = Sanic(f"fuzz_wechat_{next(_wechat_apps)}")
    app.blueprint(WeChatInput(settings, unlimited).blueprint(bot), url_prefix="/webhooks/wechat")
    return app


def signed(body: bytes, nonce: int) -> Push:
    """A plain push signed with the account's token: the signature covers no body, so the
    parser is reached with whatever `body` holds."""
    stamp = str(int(time.time()))
    query = {"signature": sign(ACCOUNT.token, stamp, str(nonce)), "timestamp": stamp}
    return Push({**query, "nonce": str(nonce)}, body)


query_values = st.text(st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    ["", "1", "aes", "raw", "0" * 40, "9" * 13]
)
QUERY_NAMES = ("signature", "timestamp", "nonce", "encrypt_type", "msg_signature", "echostr")
random_queries = st.fixed_dictionaries({}, optional={name: query_values for name in QUERY_NAMES})
# fresh and well-formed but for the signature: only the signature check can refuse these
forged_queries = st.fixed_dictionaries(
    {
        "signature": st.text("0123456789abcdef", min_size=40, max_size=40) | query_values,
        "timestamp": st.builds(lambda: str(int(time.time()))),
        "nonce": st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    },
    optional={"encrypt_type": st.sampled_from(["", "aes", "raw"]), "msg_signature": query_values},
)
unsigned_queries = random_queries | forged_queries


def post_push(url: str, push: Push) -> tuple[int, str]:
    status, content = http_post(url, f"{WECHAT_WEBHOOK}?{urlencode(push.query)}", push.body)
    return status, content.decode("utf-8", "replace")


def assert_wechat_answer(status: int, body: str, bot: RecordingBot, before: int) -> None:
    assert status in (200, 400, 403, 413), (status, body[:300])
    if status != 200:
        assert body.strip(), "a 4xx says why"
        assert len(bot.messages) == before
        return
    assert body == "success" or body.startswith("<xml>"), body[:300]
    for message in bot.messages[before:]:
        assert_checked(message, "wx:")


def test_wechat_signed_pushes_of_any_body_get_a_reply_or_a_clear_4xx() -> None:
    bot = RecordingBot()
    sim = WeChatSimulator("", ACCOUNT, "plain")  # type: ignore[arg-type]
    safe = WeChatSimulator("", ACCOUNT, "safe")  # type: ignore[arg-type]
    nonces = itertools.count(10**9)

    def check(url: str) -> None:
        @given(body=wechat_bodies(sim), encrypted=st.booleans())
        @fuzz_settings(200)
        def one_push(body: bytes, encrypted: bool) -> None:
            before = len(bot.messages)
            if encrypted:  # the document inside a correctly signed AES envelope (safe mode)
                push = safe.push(body.decode("utf-8", "replace"), nonce=str(next(nonces)))
            else:
                push = signed(body, next(nonces))
            with trapped_errors() as trap:
                status, answer = post_push(url, push)
            assert not trap.records, trap.report()
            assert_wechat_answer(status, answer, bot, before)

        one_push()

    in_a_thread(wechat_app("compatible", bot), check)
    assert bot.messages, "some examples were well-formed enough to reach the bot"


def test_wechat_unsigned_pushes_reach_nobody() -> None:
    bot = RecordingBot()
    sim = WeChatSimulator("", ACCOUNT, "plain")  # type: ignore[arg-type]

    def check(url: str) -> None:
        @given(query=unsigned_queries, body=wechat_bodies(sim))
        @fuzz_settings(200)
        def one_push(query: dict[str, str], body: bytes) -> None:
            with trapped_errors() as trap:
                status, answer = post_push(url, Push(query, body))
            assert not trap.records, trap.report()
            assert status in (403, 413), (status, answer[:300])  # 413: too big to look at
            assert bot.messages == []

        one_push()

    in_a_thread(wechat_app("compatible", bot), check)


# ------------------------------------------------- what the fuzzing found, pinned down
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Sanic 21.12's websockets
def test_socket_events_with_no_or_several_arguments_are_handled(app: Sanic) -> None:
    """Found by fuzzing: `emit("feedback")` with no data (or with two arguments) raised
    TypeError in the handler, logged with a traceback, and a `session_request` without data
    was never confirmed."""

    def check(url: str) -> None:
        widget = Widget(url)
        try:
            with trapped_errors() as trap:
                widget.client.emit("feedback")
                widget.client.emit("feedback", ({"helpful": True}, "extra"))
                widget.client.emit("session_request")
                widget.session = widget.confirmed.get(timeout=10)[0]
                widget.client.emit("user_uttered", ({"message": "hi"}, "extra"))
                assert widget.answered()["text"] == f"web:{widget.session}|hi"
                widget.still_answers()
            assert not trap.records, trap.report()
        finally:
            widget.close()

    in_a_thread(app, check)


def test_lone_surrogates_never_reach_a_store() -> None:
    """Found by fuzzing: a widget 👍/👎 whose question held a JSON "\\ud800" escape raised
    UnicodeEncodeError in the desk's SQLite store (a traceback per event)."""
    assert webchat.visitor_feedback(
        {"helpful": True, "question": "q\ud800", "answer": "\udfff"}
    ) == (
        True,
        "q\ufffd",
        "\ufffd",
    )
    assert webchat.visitor_feedback({"helpful": True, "question": "👍", "answer": "a"}) == (
        True,
        "👍",
        "a",
    )


def test_rest_refuses_a_sender_with_a_lone_surrogate_and_mends_a_message(app: Sanic) -> None:
    def check(url: str) -> None:
        status, content = http_post(url, WEBHOOK, b'{"sender": "a\\ud800", "message": "hi"}')
        assert status == 400 and b"surrogate" in content
        status, _ = http_post(url, WEBHOOK, b'{"sender": "a", "message": "hi \\ud800"}')
        assert status == 200

    in_a_thread(app, check)
    (message,) = app.ctx.agent.messages
    assert message.text == "hi \ufffd"
