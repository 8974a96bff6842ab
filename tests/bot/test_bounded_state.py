"""Bounded state (issue #15, item 1): what the process remembers per conversation, client or
word stays bounded however many of them a script invents. The inventory and why each is
bounded: docs/security.md, "Bounded state". The session's own bound: tests/ops/test_session_bound.py.
"""

from __future__ import annotations

import asyncio

import limits

from bot.nlu.spelling import PINYIN_CACHE_SIZE, is_pinyin
from bot.rate_limits import RateLimiter

ONE_PER_SECOND = {"conversation": limits.parse("1 per 1 second")}


def remembered_keys(limiter: RateLimiter) -> int:
    return len(limiter._memory_storage.events)


def test_rate_limit_counts_forget_clients_whose_windows_emptied() -> None:
    """limits' MemoryStorage kept one key per conversation ever seen (a fresh REST `sender`
    per request grew the process without end); the sweep keeps only windows still counting."""
    limiter = RateLimiter(ONE_PER_SECOND, memory_sweep_every=5)

    async def scenario() -> int:
        for number in range(5):  # the 5th hit sweeps: all still counting, all kept
            await limiter.hit("conversation", f"rest:old-{number}")
        await asyncio.sleep(1.1)  # their windows pass
        await limiter.hit("conversation", "rest:new-0")  # the library's expiry runs after it
        await asyncio.sleep(0.1)
        for number in range(1, 5):  # the 10th hit sweeps
            await limiter.hit("conversation", f"rest:new-{number}")
        return remembered_keys(limiter)

    assert asyncio.run(scenario()) == 5  # 10 without the sweep


def test_a_sweep_keeps_the_counts_still_counting() -> None:
    limiter = RateLimiter(ONE_PER_SECOND, memory_sweep_every=2)

    async def scenario() -> list[bool]:
        first = await limiter.hit("conversation", "rest:flooder")
        second = await limiter.hit("conversation", "rest:flooder")  # refused; then a sweep
        third = await limiter.hit("conversation", "rest:flooder")  # still refused
        return [first.allowed, second.allowed, third.allowed]

    assert asyncio.run(scenario()) == [True, False, False]


def test_words_checked_for_pinyin_are_remembered_up_to_a_bound() -> None:
    """Every Latin word a visitor types was cached for good (functools.cache)."""
    is_pinyin.cache_clear()
    for number in range(PINYIN_CACHE_SIZE + 500):
        is_pinyin(f"zzq{number:x}".replace("0", "g"))
    assert is_pinyin.cache_info().currsize == PINYIN_CACHE_SIZE
    assert is_pinyin("zenme")
