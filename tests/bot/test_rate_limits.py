"""The app's rate limits (bot/rate_limits.py) and their words (bot/unavailable.py): each rule
counts what bot/limits.py says, operators override it by environment, a Redis that refuses
connections never stops an answer, and a real Redis shares counts between instances."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot import rate_limits
from bot.lang import CJK_CHAR
from bot.limits import RATE_LIMITS, RATE_LIMITS_SWITCH_ENV
from bot.rate_limits import (
    RateLimitConfigError,
    limits,  # imported there with the pkg_resources warning of limits 2.4 silenced
    RateLimiter,
    Verdict,
    client_ip,
    rules_from_env,
)
from bot.unavailable import SLOW_DOWN, slow_down
from ops.harness import free_port
from tests.bot.channels.wechat.conftest import redis_url  # noqa: F401  (a fixture)


def hits(limiter: RateLimiter, rule: str, key: str, count: int) -> list[Verdict]:
    async def run() -> list[Verdict]:
        return [await limiter.hit_all((rule, key)) for _ in range(count)]

    return asyncio.run(run())


def allowed_count(verdicts: list[Verdict]) -> int:
    return sum(v.allowed for v in verdicts)


@pytest.mark.parametrize("rule", sorted(RATE_LIMITS))
def test_each_rule_allows_its_number_then_refuses_with_a_retry_time(rule: str) -> None:
    limiter = RateLimiter.from_env({})
    item = limiter.rules[rule]
    assert item == limits.parse(RATE_LIMITS[rule][0])  # the documented default
    verdicts = hits(limiter, rule, "client-a", item.amount + 3)
    assert [v.allowed for v in verdicts] == [True] * item.amount + [False] * 3
    refused = verdicts[-1]
    assert 1 <= refused.retry_after_s <= item.get_expiry()
    assert hits(limiter, rule, "client-b", 1)[0].allowed  # another client has its own count


def test_the_conversation_rule_is_a_burst_then_one_a_second() -> None:
    limiter = RateLimiter.from_env({"CYBERWEEK_LIMIT_CONVERSATION": "3 per 1 second"})
    assert allowed_count(hits(limiter, "conversation", "rest:x", 5)) == 3
    time.sleep(1.05)  # the window has moved on: the conversation may speak again
    assert allowed_count(hits(limiter, "conversation", "rest:x", 5)) == 3


def test_a_refusal_by_the_first_rule_does_not_count_against_the_second() -> None:
    limiter = RateLimiter.from_env(
        {"CYBERWEEK_LIMIT_CONVERSATION": "2 per minute", "CYBERWEEK_LIMIT_PER_IP": "4 per minute"}
    )

    async def run() -> list[bool]:
        flood = [
            await limiter.hit_all(("conversation", "rest:flood"), ("ip", "10.0.0.1"))
            for _ in range(50)
        ]
        other = [
            await limiter.hit_all(("conversation", "rest:other"), ("ip", "10.0.0.1"))
            for _ in range(2)
        ]
        return [v.allowed for v in flood + other]

    allowed = asyncio.run(run())
    assert sum(allowed[:50]) == 2
    assert allowed[50:] == [True, True]  # the flooder's refused hits left the address's budget


def test_operators_override_each_rule_by_environment() -> None:
    environ = {variable: "7 per 3 seconds" for _, variable in RATE_LIMITS.values()}
    for rule, item in rules_from_env(environ).items():
        assert (item.amount, item.get_expiry()) == (7, 3), rule


def test_an_unreadable_override_is_refused_at_start_with_the_variable_named() -> None:
    with pytest.raises(RateLimitConfigError, match="CYBERWEEK_LIMIT_PER_IP"):
        RateLimiter.from_env({"CYBERWEEK_LIMIT_PER_IP": "lots"})


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false"])
def test_the_switch_lifts_every_limit(value: str) -> None:
    limiter = RateLimiter.from_env({RATE_LIMITS_SWITCH_ENV: value})
    assert allowed_count(hits(limiter, "conversation", "rest:x", 100)) == 100


def test_a_redis_that_refuses_connections_falls_back_to_memory_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refusing = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    limiter = RateLimiter.from_env({"REDIS_URL": refusing})
    item = limiter.rules["conversation"]
    with caplog.at_level(logging.WARNING, logger="bot.rate_limits"):
        started = time.monotonic()
        verdicts = hits(limiter, "conversation", "rest:x", item.amount + 2)
        elapsed = time.monotonic() - started
    assert allowed_count(verdicts) == item.amount  # still counted, in memory
    assert not limiter.shared
    failures = [r for r in caplog.records if "Redis failed" in r.getMessage()]
    assert len(failures) == 1
    assert elapsed < 2  # one refused connection, then memory: no wait per message
    limiter.close()


def test_instances_sharing_redis_share_the_counts(redis_url: str) -> None:  # noqa: F811
    environ = {"REDIS_URL": redis_url, "CYBERWEEK_LIMIT_CONVERSATION": "4 per minute"}
    first, second = RateLimiter.from_env(environ), RateLimiter.from_env(environ)
    key = f"rest:shared-{time.time_ns()}"
    assert allowed_count(hits(first, "conversation", key, 3)) == 3
    assert allowed_count(hits(second, "conversation", key, 3)) == 1  # the other's 3 counted
    assert first.shared and second.shared
    first.close()
    second.close()


def test_slow_down_is_said_in_the_conversations_language_or_both() -> None:
    assert CJK_CHAR.search(slow_down("zh")) and not CJK_CHAR.search(slow_down("en"))
    assert "too fast" in slow_down("en") and "太快" in slow_down("zh")
    both = slow_down(None)
    assert SLOW_DOWN["zh"] in both and SLOW_DOWN["en"] in both


class FakeRequest:
    def __init__(self, remote_addr: str, ip: str) -> None:
        self.remote_addr, self.ip = remote_addr, ip


def test_the_client_address_is_the_proxys_word_when_trusted_else_the_peer() -> None:
    assert client_ip(FakeRequest("203.0.113.7", "127.0.0.1")) == "203.0.113.7"
    assert client_ip(FakeRequest("", "198.51.100.2")) == "198.51.100.2"
    assert client_ip(None) == "unknown"


def test_a_refusal_is_answered_after_a_pause_unless_too_many_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rate_limits, "REFUSAL_HOLD_S", 0.2)
    monkeypatch.setattr(rate_limits, "MAX_HELD_REFUSALS", 2)
    limiter = RateLimiter.from_env({})

    async def timed(verdict: Verdict) -> float:
        started = time.monotonic()
        await limiter.hold_refusal(verdict)
        return time.monotonic() - started

    async def scenario() -> list[float]:
        refused = Verdict(False, retry_after_s=5)
        return list(await asyncio.gather(*(timed(refused) for _ in range(3))))

    held = asyncio.run(scenario())
    assert sorted(held)[0] < 0.05  # the third found two waiting: answered at once
    assert all(0.15 < seconds < 1 for seconds in sorted(held)[1:])
    assert asyncio.run(timed(Verdict(True))) < 0.05  # nothing to hold
    assert asyncio.run(timed(Verdict(False, retry_after_s=0))) < 0.05  # never past the retry
