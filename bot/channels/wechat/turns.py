"""Which Rasa instance runs a WeChat message, and its reply for the instances that do not.

WeChat retries a push (same MsgId) when the passive reply has not come within 5 s, and behind
nginx the retry may reach another instance. The first instance to see a message claims it
(Redis SET NX, for as long as the channel remembers turns); an instance that finds the message
claimed does not run it again: it waits, within its own reply budget, for the reply the owner
publishes under the same key, and answers "success" if none comes in time (the owner delivers
a slow answer through the customer-service API). Without REDIS_URL, or when Redis fails, every
claim succeeds: the channel's in-process dedupe is all there is, and a missing cache must not
stop answers.

The key's value: PENDING while the owner runs the turn, then REPLY_PREFIX + the passive reply,
or NO_REPLY when the owner answered "success" (the answer goes through the customer-service
API, or there is nothing to say): retries answer the same.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Protocol

logger = logging.getLogger(__name__)

PENDING = "pending"
NO_REPLY = "success"
REPLY_PREFIX = "reply:"
POLL_INTERVAL_S = 0.05  # a waiting retry reads the key this often (a few dozen reads at most)


@dataclass(frozen=True)
class SharedReply:
    """What the owning instance answered: a passive reply's text, or None for "success"."""

    text: str | None


class TurnClaims(Protocol):
    async def claim(self, key: str) -> bool:
        """True when this instance runs the message (first to see it, or no shared store)."""
        ...

    async def publish(self, key: str, reply: str | None) -> None:
        """The owner's passive reply (None: "success"), for retries on other instances."""
        ...

    async def wait_for_reply(self, key: str, deadline: float) -> SharedReply | None:
        """The owner's reply once published, or None if not by `deadline` (monotonic)."""
        ...

    async def close(self) -> None: ...


class LocalClaims:
    """One instance: it runs every message; its own dedupe (`_turns`) answers retries."""

    async def claim(self, key: str) -> bool:
        return True

    async def publish(self, key: str, reply: str | None) -> None:
        return None

    async def wait_for_reply(self, key: str, deadline: float) -> SharedReply | None:
        return None

    async def close(self) -> None:
        return None


class RedisClaims:
    """Claims and replies shared by every instance of the account."""

    def __init__(self, url: str, ttl_s: float, prefix: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, decode_responses=True
        )
        self._ttl_s = max(1, int(ttl_s))
        self._prefix = prefix

    async def claim(self, key: str) -> bool:
        try:
            return bool(await self._redis.set(self._name(key), PENDING, nx=True, ex=self._ttl_s))
        except Exception as error:  # noqa: BLE001 - any Redis failure means "run it here"
            logger.warning("wechat.turns.redis_unavailable: %s", error)
            return True

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
    """None while the owner is still at it (or the claim expired: nothing to answer with)."""
    if value == NO_REPLY:
        return SharedReply(None)
    if value is not None and value.startswith(REPLY_PREFIX):
        return SharedReply(value[len(REPLY_PREFIX) :] or None)
    return None


def claims_for(redis_url: str, ttl_s: float, account: str) -> TurnClaims:
    if redis_url:
        return RedisClaims(redis_url, ttl_s, f"cyberweek:wechat:turn:{account}:")
    return LocalClaims()
