"""bot/admission.py: at most N turns at once, the rest in arrival order, a bounded wait."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from bot.admission import TurnGate


async def _turns(gate: TurnGate, count: int, work_s: float) -> tuple[int, list[int], list[bool]]:
    running = 0
    most = 0
    finished: list[int] = []
    admitted: list[bool] = []

    async def turn(index: int) -> None:
        nonlocal running, most
        async with gate.place() as ok:
            admitted.append(ok)
            if not ok:
                return
            running += 1
            most = max(most, running)
            await asyncio.sleep(work_s)
            running -= 1
            finished.append(index)

    await asyncio.gather(*(turn(i) for i in range(count)))
    return most, finished, admitted


def test_at_most_running_turns_at_once_and_the_rest_in_arrival_order() -> None:
    most, finished, admitted = asyncio.run(_turns(TurnGate(running=3, wait_s=5), 12, 0.01))
    assert most == 3
    assert finished == list(range(12))
    assert all(admitted)


def test_a_turn_that_cannot_get_a_place_in_time_is_turned_away() -> None:
    # one place, each turn holds it 0.2 s, a wait of 0.3 s: the first two get it, the rest not
    most, finished, admitted = asyncio.run(_turns(TurnGate(running=1, wait_s=0.3), 5, 0.2))
    assert finished == [0, 1]
    assert admitted.count(False) == 3


@contextlib.asynccontextmanager
async def _turns_in_line(gate: TurnGate, count: int) -> AsyncIterator[None]:
    """`count` turns that ask the gate for a place and keep it until the block ends."""
    release = asyncio.Event()

    async def holder() -> None:
        async with gate.place():
            await release.wait()

    tasks = [asyncio.create_task(holder()) for _ in range(count)]
    await asyncio.sleep(0.01)
    try:
        yield
    finally:
        release.set()
        await asyncio.gather(*tasks)


def test_beyond_the_waiting_bound_a_turn_is_turned_away_at_once() -> None:
    async def scenario() -> tuple[bool, int]:
        gate = TurnGate(running=1, wait_s=5, waiting=2)
        async with _turns_in_line(gate, 3):  # 1 runs, 2 wait
            waiting = gate.waiting
            async with gate.place() as fourth:
                pass
        return fourth, waiting

    fourth, waiting = asyncio.run(scenario())
    assert waiting == 2
    assert fourth is False


def test_a_failing_turn_gives_its_place_back() -> None:
    async def scenario() -> bool:
        gate = TurnGate(running=1, wait_s=0.2)
        with pytest.raises(RuntimeError):
            async with gate.place():
                raise RuntimeError("the turn failed")
        async with gate.place() as again:
            return again

    assert asyncio.run(scenario()) is True


def test_a_gate_needs_a_place() -> None:
    with pytest.raises(ValueError):
        TurnGate(running=0)


def test_a_turn_expected_to_wait_too_long_is_turned_away_at_once() -> None:
    async def scenario() -> tuple[bool, float, float]:
        gate = TurnGate(running=1, expected_wait_s=0.25, wait_s=5)
        async with gate.place():  # teaches the gate that a turn holds a place ~0.1 s
            await asyncio.sleep(0.1)
        async with _turns_in_line(gate, 3):  # 1 holds, 2 wait
            expected = gate.expected_wait_s()  # (2 waiting + this one) x 0.1 s / 1 place
            asked = time.monotonic()
            async with gate.place() as admitted:
                pass
            answered_in = time.monotonic() - asked
        return admitted, expected, answered_in

    admitted, expected, answered_in = asyncio.run(scenario())
    assert expected == pytest.approx(0.3, abs=0.05)
    assert admitted is False
    assert answered_in < 0.05  # told at once, not after waiting


def test_a_turn_expected_to_wait_within_the_bound_waits() -> None:
    async def scenario() -> list[bool]:
        gate = TurnGate(running=1, expected_wait_s=1.0, wait_s=5)
        async with gate.place():
            await asyncio.sleep(0.05)
        results: list[bool] = []

        async def turn() -> None:
            async with gate.place() as admitted:
                results.append(admitted)
                await asyncio.sleep(0.05)

        await asyncio.gather(*(turn() for _ in range(6)))  # expected waits up to 0.3 s
        return results

    assert asyncio.run(scenario()) == [True] * 6
