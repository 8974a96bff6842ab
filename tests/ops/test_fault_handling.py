"""ops.rasa_entry's fault handling, in process: a bounded action call that apologises, a
conversation that cannot be read fails the turn, a failed turn is answered with an apology.

The same faults against the running production profile: tests/ops/test_faults.py (`make faults`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.exc import OperationalError

import ops.rasa_entry as rasa_entry
from bot.admission import TurnGate
from bot.unavailable import BUSY, TURN_FAILED
from ops import harness


@pytest.fixture()
def bounded_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)
    monkeypatch.setattr(rasa_entry, "ACTION_TIMEOUT_S", 0.5)
    rasa_entry.install_bounded_action_calls()


def _tracker(text: str, language: str | None = None) -> DialogueStateTracker:
    events: list[Any] = [UserUttered(text)]
    if language:
        events.append(SlotSet("language", language))
    return DialogueStateTracker.from_events("visitor", events, slots=_domain().slots)


def _domain() -> Domain:
    return Domain.from_dict({"slots": {"language": {"type": "text", "mappings": []}}})


async def _run_action(port: int, tracker: DialogueStateTracker) -> tuple[list[Any], float]:
    action = RemoteAction("action_venue", EndpointConfig(harness.action_webhook(port)))
    started = time.monotonic()
    events = await action.run(CollectingOutputChannel(), None, tracker, _domain())
    return events, time.monotonic() - started


@pytest.fixture()
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung action server)."""
    import socket

    with socket.socket() as listener:
        listener.bind((harness.LOOPBACK, 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def test_a_hung_action_server_is_given_up_on_with_an_apology(
    bounded_calls: None, silent_server: int
) -> None:
    events, elapsed = asyncio.run(_run_action(silent_server, _tracker("开幕式在哪里")))
    assert elapsed < rasa_entry.ACTION_TIMEOUT_S + 1
    assert [type(e) for e in events] == [BotUttered]
    assert events[0].text == TURN_FAILED["zh"]


def test_an_action_server_that_is_down_gets_the_apology_in_the_conversations_language(
    bounded_calls: None,
) -> None:
    closed = harness.free_port()
    events, elapsed = asyncio.run(_run_action(closed, _tracker("where?", language="en")))
    assert elapsed < 1
    assert [e.text for e in events] == [TURN_FAILED["en"]]


def test_a_rejected_action_is_still_rasas_to_handle(monkeypatch: pytest.MonkeyPatch) -> None:
    async def rejecting(*_: Any) -> list[Any]:
        raise ActionExecutionRejection("action_venue")

    monkeypatch.setattr(RemoteAction, "run", rejecting)
    rasa_entry.install_bounded_action_calls()
    with pytest.raises(ActionExecutionRejection):
        asyncio.run(_run_action(harness.free_port(), _tracker("x")))


def test_bounded_calls_installed_twice_wrap_once(bounded_calls: None) -> None:
    installed = RemoteAction.run
    rasa_entry.install_bounded_action_calls()
    assert RemoteAction.run is installed


class _DownStore(InMemoryTrackerStore):
    """A tracker store whose database is down: every read and write raises."""

    saves = 0

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    async def save(self, tracker: DialogueStateTracker) -> None:
        type(self).saves += 1


def test_a_conversation_that_cannot_be_read_fails_the_turn_and_is_not_overwritten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        FailSafeTrackerStore,
        "on_tracker_store_retrieve_error",
        FailSafeTrackerStore.on_tracker_store_retrieve_error,
    )
    store = FailSafeTrackerStore(_DownStore(_domain()))
    assert asyncio.run(store.retrieve("visitor")) is None  # Rasa's: a fresh conversation follows
    rasa_entry.install_strict_tracker_reads()
    _DownStore.saves = 0
    with pytest.raises(rasa_entry.TrackerStoreUnavailable):
        asyncio.run(store.get_or_create_tracker("visitor"))
    assert _DownStore.saves == 0  # no fresh tracker saved over the stored one


@pytest.mark.parametrize(("text", "lang"), [("开幕式在哪里", "zh"), ("Where is the expo?", "en")])
def test_a_failed_turn_is_answered_with_an_apology(
    monkeypatch: pytest.MonkeyPatch, text: str, lang: str
) -> None:
    async def failing(self: Agent, message: UserMessage) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(Agent, "handle_message", failing)
    rasa_entry.install_apology_for_failed_turns()
    output = CollectingOutputChannel()
    reply = asyncio.run(Agent().handle_message(UserMessage(text, output, "visitor")))
    assert reply is None
    assert [m["text"] for m in output.messages] == [TURN_FAILED[lang]]  # type: ignore[index]


def test_a_turn_that_works_is_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    async def answering(self: Agent, message: UserMessage) -> list[dict[str, str]]:
        return [{"text": "ok"}]

    monkeypatch.setattr(Agent, "handle_message", answering)
    rasa_entry.install_apology_for_failed_turns()
    output = CollectingOutputChannel()
    assert asyncio.run(Agent().handle_message(UserMessage("hi", output, "v"))) == [{"text": "ok"}]
    assert output.messages == []


def test_turns_beyond_the_gate_wait_and_one_that_waits_too_long_hears_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = 0
    most = 0

    async def slow(self: Agent, message: UserMessage) -> list[dict[str, str]]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.1)
        running -= 1
        return [{"text": "answer"}]

    monkeypatch.setattr(Agent, "handle_message", slow)
    rasa_entry.install_turn_admission(TurnGate(running=2, wait_s=0.25))
    outputs = [CollectingOutputChannel() for _ in range(8)]
    texts = ["开幕式在哪里"] * 4 + ["Where is the expo?"] * 4

    async def visitors() -> list[Any]:
        agent = Agent()
        return await asyncio.gather(
            *(
                agent.handle_message(UserMessage(text, output, f"v{i}"))
                for i, (text, output) in enumerate(zip(texts, outputs))
            )
        )

    replies = asyncio.run(visitors())
    assert most == 2
    answered = [r for r in replies if r == [{"text": "answer"}]]
    busy = [o.messages[0]["text"] for o in outputs if o.messages]  # type: ignore[index]
    assert len(answered) + len(busy) == 8
    assert 2 <= len(answered) < 8
    assert set(busy) <= {BUSY["zh"], BUSY["en"]} and busy
    assert BUSY["en"] in busy  # the later arrivals (English) waited longest
