"""A fuzzed surface against the real assistant (issue #15, item 7): the fast layer's inputs
(tests/bot/channels/fuzz.py), fewer of them, sent to the assistant the test run already
shares (tests/conftest.py `rasa_server`: the trained model, the action server, the SQL
tracker store; rate limits off there). WeChat's are in wechat/test_channel.py, against the
Rasa that module starts with the channel configured.

Properties: never a 5xx; a reply (a non-empty list on REST, a bot message on the widget) or
a clear 4xx; no ERROR line or traceback in Rasa's or the action server's log while the
examples ran; the event database's tables unchanged.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.inbound import checked_payload, payload_rules, without_lone_surrogates
from tests.bot.channels.fuzz import (
    Widget,
    event_tables_digest,
    fuzz_settings,
    rest_bodies,
    traceback_lines,
)
from tests.bot.channels.test_fuzz import http_post, socket_payloads

LIVE_EXAMPLES = 40
# Rasa's default intents that a visitor may type and that say nothing (/restart, /back ...):
# an empty reply to those is the bot's answer, not a failure.
SILENT_INTENTS = ("restart", "back", "session_start", "action_listen")
REPLY_TIMEOUT_S = 30


class LogWatch:
    """What the shared servers wrote to their logs since it was made."""

    def __init__(self, folder: Path) -> None:
        self.files = sorted(folder.glob("*.log"))
        self.offsets = {path: path.stat().st_size for path in self.files}

    def new_problems(self) -> list[str]:
        problems = []
        for path in self.files:
            with path.open("rb") as log:
                log.seek(self.offsets[path])
                written = log.read().decode("utf-8", "replace")
            problems += [f"{path.name}: {line}" for line in traceback_lines(written)]
        return problems


@pytest.fixture()
def untouched(seeded_db_url: str, server_logs: Path, rasa_server: str) -> Iterator[None]:
    """The event database unchanged and the servers' logs free of tracebacks after the test."""
    before = event_tables_digest(seeded_db_url)
    watch = LogWatch(server_logs)
    yield
    assert watch.new_problems() == []
    assert event_tables_digest(seeded_db_url) == before


def unique_sender(body: bytes) -> bytes:
    """The body with a sender of this example's own (a conversation paused by a typed
    /request_human says nothing more), when it names one as a string."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body
    if isinstance(parsed, dict) and isinstance(parsed.get("sender"), str):
        parsed["sender"] = f"fuzz-{uuid.uuid4().hex[:8]}-{parsed['sender']}"[:100]
        return json.dumps(parsed).encode()
    return body


def says_nothing_by_design(message: Any) -> bool:
    """Whether `message` reaches Rasa as one of SILENT_INTENTS (as the channel checks it)."""
    if not isinstance(message, str):
        return False
    checked = checked_payload(without_lone_surrogates(message), payload_rules())
    return checked.startswith("/") and checked[1:].split("{")[0] in SILENT_INTENTS


def test_rest_fuzzed_against_the_assistant(rasa_server: str, untouched: None) -> None:
    parts = urlsplit(rasa_server)
    url = f"{parts.scheme}://{parts.netloc}"

    @given(body=rest_bodies().map(unique_sender))
    @fuzz_settings(LIVE_EXAMPLES)
    def one_body(body: bytes) -> None:
        status, content = http_post(url, parts.path, body)
        assert status in (200, 400, 413), (status, content[:300])
        if status != 200:
            assert content.strip()
            return
        replies = json.loads(content)
        assert isinstance(replies, list)
        # Rasa's REST channel answers 200 [] when a turn fails: an empty list is an error
        assert replies or says_nothing_by_design(json.loads(body)["message"]), body[:300]

    one_body()


def is_well_formed_message(name: str, data: Any) -> bool:
    return (
        name == "user_uttered" and isinstance(data, dict) and isinstance(data.get("message"), str)
    )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_socketio_fuzzed_against_the_assistant(rasa_server: str, untouched: None) -> None:
    parts = urlsplit(rasa_server)
    url = f"{parts.scheme}://{parts.netloc}"
    probe = st.sampled_from(["你好", "where is the expo?"])

    @given(event=socket_payloads(), question=probe)
    @fuzz_settings(LIVE_EXAMPLES)
    def one_event(event: tuple[str, Any], question: str) -> None:
        name, data = event
        # a conversation of its own: a typed /request_human pauses it
        widget = Widget(url, reply_timeout_s=REPLY_TIMEOUT_S)
        try:
            widget.send(name, data)
            if not widget.client.connected:  # a frame over the cap: refused, closed
                return
            if is_well_formed_message(name, data):
                if not says_nothing_by_design(data["message"]):
                    assert widget.answered() is not None
                return
            widget.client.emit("user_uttered", {"message": question})
            assert widget.answered() is not None
        finally:
            widget.close()

    one_event()


@pytest.mark.parametrize("text", ["\ud800 开幕式在哪里", "where\udfff is the expo"])
def test_lone_surrogates_are_answered_and_stored(
    rasa_server: str, text: str, untouched: None
) -> None:
    """Found by fuzzing: a lone surrogate (a JSON "\\ud800" escape) in a message."""
    parts = urlsplit(rasa_server)
    body = json.dumps({"sender": f"fuzz-{uuid.uuid4().hex[:8]}", "message": text}).encode()
    status, content = http_post(f"{parts.scheme}://{parts.netloc}", parts.path, body)
    assert status == 200 and json.loads(content)
