"""bot.channels.socketio_redis: after Redis fails to take a push, pushes stay local for a while."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio

from bot.channels.socketio_redis import REDIS_RETRY_AFTER_S, BoundedRedisManager
from tests.bot.nlu.helpers import FakeClock


@pytest.fixture()
def redis_answers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What python-socketio's own publish returns, call by call (None: it failed and logged)."""
    answers: list[Any] = []

    async def publish(self: socketio.AsyncRedisManager, data: Any) -> Any:
        return answers.pop(0)

    monkeypatch.setattr(socketio.AsyncRedisManager, "_publish", publish)
    return answers


def test_a_failed_push_keeps_the_next_ones_local_until_the_retry_time(
    redis_answers: list[Any],
) -> None:
    clock = FakeClock()
    manager = BoundedRedisManager("redis://127.0.0.1:1", "test", clock)

    async def pushes() -> list[Any]:
        results = [await manager._publish({"n": 1})]  # Redis fails
        clock.now += REDIS_RETRY_AFTER_S - 0.1
        results.append(await manager._publish({"n": 2}))  # not tried
        clock.now += 0.2
        results.append(await manager._publish({"n": 3}))  # tried again: Redis is back
        results.append(await manager._publish({"n": 4}))
        return results

    redis_answers.extend([None, 1, 1])
    assert asyncio.run(pushes()) == [None, None, 1, 1]
    assert redis_answers == []  # three calls reached Redis: the second push did not
