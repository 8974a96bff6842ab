"""What a signed push may carry: one body per signed query string, one follower per MsgId.

In plain mode (and for plain pushes in compatible mode) WeChat's signature covers only the
token, timestamp and nonce, not the body: within the 5-minute window a captured query string
would sign any body, and a message id seen once would hand its remembered answer to whoever
names it. So the channel binds, for as long as either could be replayed,

- the signed query string to the SHA-256 of the body it first came with: the same query with
  the same body is WeChat's retry (answered from the channel's dedupe), with another body 403;
- each message's dedupe key (MsgId) to the OpenID it first came from: another OpenID, 403.

The bindings live in Redis when REDIS_URL is set (every process of the account sees them, as
the access token), in this process otherwise; a Redis failure falls back to memory, because a
missing cache must not stop answers.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

from bot.cache import TtlCache
from bot.channels.wechat.protocol import Inbound, PushParams, Rejected

logger = logging.getLogger(__name__)

MAX_BINDINGS = 50_000  # in memory; each is two short strings


class Bindings(Protocol):
    async def bind(self, key: str, value: str) -> str:
        """Binds `key` to `value` unless it is bound already; returns the value bound now."""
        ...

    async def close(self) -> None: ...


class MemoryBindings:
    """The bindings of this process, forgotten after `ttl_s`, at most MAX_BINDINGS of them."""

    def __init__(self, ttl_s: float, max_entries: int = MAX_BINDINGS) -> None:
        self._entries: TtlCache[str, str] = TtlCache(ttl_s, max_entries)

    async def bind(self, key: str, value: str) -> str:
        bound = self._entries.get(key)
        if bound is None:
            self._entries.put(key, value)
            return value
        return bound

    async def close(self) -> None:
        return None


class RedisBindings:
    """The bindings shared by every process of the account (SET NX: the first one wins)."""

    def __init__(self, url: str, ttl_s: float, prefix: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, decode_responses=True
        )
        self._ttl_s = max(1, int(ttl_s))
        self._prefix = prefix
        self._memory = MemoryBindings(ttl_s)

    async def bind(self, key: str, value: str) -> str:
        name = f"{self._prefix}{key}"
        try:
            if await self._redis.set(name, value, nx=True, ex=self._ttl_s):
                return value
            bound = await self._redis.get(name)
        except Exception as error:  # noqa: BLE001 - any Redis failure means "use memory"
            logger.warning("wechat.replay.redis_unavailable: %s", error)
            return await self._memory.bind(key, value)
        return value if bound is None else str(bound)  # expired in between: first use

    async def close(self) -> None:
        await self._redis.close()


def bindings_for(redis_url: str, ttl_s: float, account: str) -> Bindings:
    if redis_url:
        return RedisBindings(redis_url, ttl_s, f"cyberweek:wechat:replay:{account}:")
    return MemoryBindings(ttl_s)


def body_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def query_key(params: PushParams) -> str:
    """The signed query string (msg_signature included: it signs an encrypted body)."""
    return f"q:{params.timestamp}:{params.nonce}:{params.signature}:{params.msg_signature}"


async def check_not_replayed(
    bindings: Bindings, params: PushParams, raw: bytes, inbound: Inbound
) -> None:
    """Raises Rejected(403) for a signed query string replayed with another body, and for a
    message id replayed under another follower's OpenID."""
    digest = body_digest(raw)
    if await bindings.bind(query_key(params), digest) != digest:
        raise Rejected(403, "signed query string already used with another body")
    sender_key = f"m:{inbound.dedupe_key}"
    if await bindings.bind(sender_key, inbound.openid) != inbound.openid:
        raise Rejected(403, "message id already seen from another follower")
