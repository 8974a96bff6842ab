"""Which Rasa instance runs a WeChat message, and its reply for the instances that do not.

WeChat retries a push (same MsgId) when the passive reply has not come within 5 s, and behind
nginx the retry may reach another instance. The first instance to see a message claims it
(Redis SET NX) for a short lease that it renews while the turn runs; an instance that finds the
message claimed does not run it again: it waits, within its own reply budget, for the reply the
owner publishes under the same key, and answers "success" if none comes in time (the owner
delivers a slow answer through the customer-service API). If the owner dies mid-turn its lease
lapses within CLAIM_LEASE_S and a waiting retry claims the message and runs it, or, when the
owner had stored the turn before it died, answers from the stored conversation. Without
REDIS_URL, or when Redis fails, every claim succeeds: the channel's in-process dedupe is all
there is, and a missing cache must not stop answers.

The key's value: PENDING + the owner's id while the owner runs the turn, then REPLY_PREFIX +
the passive reply, or NO_REPLY when the owner answered "success" (the answer goes through the
customer-service API, or there is nothing to say), kept as long as the channel remembers turns:
retries answer the same.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

logger = logging.getLogger(__name__)

PENDING = "pending"
NO_REPLY = "success"
REPLY_PREFIX = "reply:"
POLL_INTERVAL_S = 0.05  # a waiting retry reads the key this often (a few dozen reads at most)
# WeChat retries 5 s apart, three times: a dead owner's claim must lapse before the last retry.
CLAIM_LEASE_S = 4.0
RENEWALS_PER_LEASE = 3  # a renewal can fail (a Redis hiccup) without the lease lapsing

_RENEW_IF_HELD = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


@dataclass(frozen=True)
class SharedReply:
    """What the owning instance answered: a passive reply's text, or None for "success";
    `orphaned` when the owner's claim lapsed before it answered (it died mid-turn)."""

    text: str | None
    orphaned: bool = False


ORPHANED = SharedReply(None, orphaned=True)


class TurnClaims(Protocol):
    async def claim(self, key: str) -> bool:
        """True when this instance runs the message (first to see it, or no shared store)."""
        ...

    async def publish(self, key: str, reply: str | None) -> None:
        """The owner's passive reply (None: "success"), for retries on other instances."""
        ...

    async def hold(self, key: str, turn: asyncio.Future[object]) -> None:
        """Keeps this instance's claim on `key` alive until `turn` is done."""
        ...

    async def wait_for_reply(self, key: str, deadline: float) -> SharedReply | None:
        """The owner's reply once published, ORPHANED if its claim lapsed unanswered, or None
        if neither by `deadline` (monotonic)."""
        ...

    async def close(self) -> None: ...


class LocalClaims:
    """One instance: it runs every message; its own dedupe (`_turns`) answers retries."""

    async def claim(self, key: str) -> bool:
        return True

    async def publish(self, key: str, reply: str | None) -> None:
        return None

    async def hold(self, key: str, turn: asyncio.Future[object]) -> None:
        return None

    async def wait_for_reply(self, key: str, deadline: float) -> SharedReply | None:
        return None

    async def close(self) -> None:
        return None


class RedisClaims:
    """Claims and replies shared by every instance of the account."""

    def __init__(self, url: str, ttl_s: float, prefix: str, lease_s: float | None = None) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, decode_responses=True
        )
        self._ttl_s = max(1, int(ttl_s))
        self._lease_ms = int(1000 * (lease_s or CLAIM_LEASE_S))
        self._prefix = prefix
        self._pending = f"{PENDING}:{uuid.uuid4().hex}"  # this instance's claims

    async def claim(self, key: str) -> bool:
        name = self._name(key)
        try:
            return bool(await self._redis.set(name, self._pending, nx=True, px=self._lease_ms))
        except Exception as error:  # noqa: BLE001 - any Redis failure means "run it here"
            logger.warning("wechat.turns.redis_unavailable: %s", error)
            return True

    async def hold(self, key: str, turn: asyncio.Future[object]) -> None:
        """Renews the lease while `turn` runs, as long as the claim is still this instance's
        (a published reply replaces it)."""
        every_s = self._lease_ms / 1000 / RENEWALS_PER_LEASE
        while not turn.done():
            await asyncio.wait({turn}, timeout=every_s)
            if turn.done():
                return
            try:
                await self._redis.eval(
                    _RENEW_IF_HELD, 1, self._name(key), self._pending, self._lease_ms
                )
            except Exception as error:  # noqa: BLE001 - the next renewal may get through
                logger.warning("wechat.turns.redis_unavailable: %s", error)

    async def publish(self, key: str, reply: str | None) -> None:
        value = REPLY_PREFIX + reply if reply else NO_REPLY
        try:
            await self._redis.set(self._name(key), value, ex=self._ttl_s)
        except Exception as error:  # noqa: BLE001 - retries elsewhere then answer "success"
            logger.warning("wechat.turns.redis_unavailable: %s", error)

    async def wait_for_reply(self, key: str, deadline: float) -> SharedReply | None:
        name = self._name(key)
        while True:
            try:
                value = await self._redis.get(name)
            except Exception as error:  # noqa: BLE001
                logger.warning("wechat.turns.redis_unavailable: %s", error)
                return None
            if value is None:  # published replies outlive the retries: the owner died
                return ORPHANED
            reply = _reply_from(value)
            if reply is not None:
                return reply
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await asyncio.sleep(min(POLL_INTERVAL_S, remaining))

    async def close(self) -> None:
        await self._redis.close()

    def _name(self, key: str) -> str:
        return f"{self._prefix}{key}"


def _reply_from(value: str | None) -> SharedReply | None:
    """None while the owner is still at it."""
    if value == NO_REPLY:
        return SharedReply(None)
    if value is not None and value.startswith(REPLY_PREFIX):
        return SharedReply(value[len(REPLY_PREFIX) :] or None)
    return None


def claims_for(
    redis_url: str, ttl_s: float, account: str, lease_s: float | None = None
) -> TurnClaims:
    if redis_url:
        return RedisClaims(redis_url, ttl_s, f"cyberweek:wechat:turn:{account}:", lease_s)
    return LocalClaims()
