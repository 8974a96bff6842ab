"""The customer-service message API (message/custom/send), for answers too slow for a passive
reply and for staff replies from the help desk (delivery.py).

Runs on Sanic's event loop, so every call is aiohttp with a timeout; failures WeChat calls
transient (system busy, network, 5xx) are retried with back-off, an expired access token is
replaced once. The access token is cached until shortly before it expires: WeChat limits how
often it may be fetched, and a new token invalidates the old one, so with several Rasa
processes it is shared through Redis when REDIS_URL is set, and fetched by one of them at a
time (a refresh lock in Redis; the others wait and read the token it saved).
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import secrets
import time
from typing import Any, Protocol

import aiohttp

from bot.channels.wechat.config import WeChatSettings

logger = logging.getLogger(__name__)

TOKEN_PATH = "/cgi-bin/token"
SEND_PATH = "/cgi-bin/message/custom/send"
# Refresh this long before WeChat's expiry, so a token never dies in flight.
TOKEN_MARGIN_S = 300
# WeChat error codes: the access token is invalid or expired -> fetch a new one.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# "System busy, retry later".
TRANSIENT_ERRORS = frozenset({-1})
# How often a process waiting for another one's refresh looks for the new token.
REFRESH_POLL_S = 0.05


class ApiError(Exception):
    """WeChat refused (its `errcode` and `errmsg`), or, with errcode None, could not be reached."""

    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class TokenStore(Protocol):
    async def load(self) -> str | None: ...

    async def save(self, token: str, ttl_s: float) -> None: ...

    async def forget(self, token: str) -> None: ...

    async def lock_refresh(self, ttl_s: float) -> bool:
        """True when this process may fetch a new token (no other one is fetching)."""
        ...

    async def unlock_refresh(self) -> None: ...


class MemoryTokenStore:
    """The token in this process only."""

    def __init__(self) -> None:
        self._token: str | None = None
        self._expires_at = 0.0

    async def load(self) -> str | None:
        return self._token if time.monotonic() < self._expires_at else None

    async def save(self, token: str, ttl_s: float) -> None:
        self._token, self._expires_at = token, time.monotonic() + ttl_s

    async def forget(self, token: str) -> None:
        if self._token == token:
            self._token, self._expires_at = None, 0.0

    async def lock_refresh(self, ttl_s: float) -> bool:
        return True  # one process: CustomerServiceApi's asyncio lock is enough

    async def unlock_refresh(self) -> None:
        return None


class RedisTokenStore:
    """The token shared by every process of the account; falls back to memory if Redis fails,
    because a missing cache must not stop answers."""

    def __init__(self, url: str, app_id: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, decode_responses=True
        )
        self._key = f"cyberweek:wechat:access_token:{app_id}"
        self._lock_key = f"cyberweek:wechat:access_token_refresh:{app_id}"
        self._lock_value = secrets.token_hex(8)  # this process's: only the holder unlocks
        self._memory = MemoryTokenStore()

    async def load(self) -> str | None:
        try:
            return await self._redis.get(self._key)
        except Exception as error:  # noqa: BLE001 - any Redis failure means "use memory"
            logger.warning("wechat.token.redis_unavailable: %s", error)
            return await self._memory.load()

    async def save(self, token: str, ttl_s: float) -> None:
        await self._memory.save(token, ttl_s)
        try:
            await self._redis.set(self._key, token, ex=max(1, int(ttl_s)))
        except Exception as error:  # noqa: BLE001
            logger.warning("wechat.token.redis_unavailable: %s", error)

    async def forget(self, token: str) -> None:
        await self._memory.forget(token)
        try:
            if await self._redis.get(self._key) == token:
                await self._redis.delete(self._key)
        except Exception as error:  # noqa: BLE001
            logger.warning("wechat.token.redis_unavailable: %s", error)

    async def lock_refresh(self, ttl_s: float) -> bool:
        """SET NX with a lifetime: a holder that dies mid-fetch blocks the others only briefly."""
        try:
            lock = self._redis.set(self._lock_key, self._lock_value, nx=True, px=int(ttl_s * 1000))
            return bool(await lock)
        except Exception as error:  # noqa: BLE001 - no Redis: refresh in this process
            logger.warning("wechat.token.redis_unavailable: %s", error)
            return True

    async def unlock_refresh(self) -> None:
        try:
            await self._redis.eval(_UNLOCK_IF_HELD, 1, self._lock_key, self._lock_value)
        except Exception as error:  # noqa: BLE001 - the lock expires on its own
            logger.warning("wechat.token.redis_unavailable: %s", error)

    async def close(self) -> None:
        await self._redis.close()


# Deletes the lock only if this process still holds it (it may have expired and been taken).
_UNLOCK_IF_HELD = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class _Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    NEW_TOKEN = "new token"
    GIVE_UP = "give up"


class CustomerServiceApi:
    def __init__(self, settings: WeChatSettings, store: TokenStore | None = None) -> None:
        self._settings = settings
        self._base = settings.api_base_url.rstrip("/")
        self._store: TokenStore = store or (
            RedisTokenStore(settings.redis_url, settings.app_id)
            if settings.redis_url
            else MemoryTokenStore()
        )
        self._token_lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def send_text(self, openid: str, content: str) -> bool:
        """Deliver one text message; False (logged) when WeChat would not take it."""
        try:
            await self.deliver_text(openid, content)
        except ApiError:
            logger.error("wechat.send.failed: a reply to %s could not be delivered", openid)
            return False
        return True

    async def deliver_text(self, openid: str, content: str) -> None:
        """Deliver one text message, or raise ApiError with WeChat's errcode (None when WeChat
        could not be reached). Only transient failures are retried; 45015 (48 h passed) and
        45047 (quota used up) are final."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        failure = ApiError(None, "no attempt made")
        for attempt in range(1, self._settings.api_attempts + 1):
            outcome, failure = await self._attempt(body)
            if outcome is _Outcome.SENT:
                return
            if outcome is _Outcome.GIVE_UP:
                break
            if outcome is _Outcome.RETRY and attempt < self._settings.api_attempts:
                await asyncio.sleep(self._settings.api_backoff_s * 2 ** (attempt - 1))
        raise failure

    async def _attempt(self, body: dict[str, Any]) -> tuple[_Outcome, ApiError]:
        """One try, and what went wrong (meaningless when SENT)."""
        token = ""
        try:
            token = await self._access_token()
            result = await self._call("POST", SEND_PATH, {"access_token": token}, body)
        except ApiError as error:  # fetching the token failed
            logger.warning("wechat.token.failed: %s", error)
            retry = error.errcode in TRANSIENT_ERRORS
            return (_Outcome.RETRY if retry else _Outcome.GIVE_UP), error
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning("wechat.send.retry: %s", type(error).__name__)
            return _Outcome.RETRY, ApiError(
                None, f"WeChat's API not reachable ({type(error).__name__})"
            )
        errcode = int(result.get("errcode") or 0)
        errmsg = str(result.get("errmsg", ""))
        failure = ApiError(errcode, errmsg)
        if errcode == 0:
            return _Outcome.SENT, failure
        logger.warning("wechat.send.error %s: %s", errcode, errmsg)
        if errcode in TOKEN_ERRORS:
            await self._store.forget(token)
            return _Outcome.NEW_TOKEN, failure
        return (_Outcome.RETRY if errcode in TRANSIENT_ERRORS else _Outcome.GIVE_UP), failure

    async def _access_token(self) -> str:
        token = await self._store.load()
        if token:
            return token
        async with self._token_lock:  # one fetch, however many sends wait for it
            return await self._refreshed_token()

    async def _refreshed_token(self) -> str:
        """The token another process saved meanwhile, or one fetched here under the store's
        refresh lock: two fetches would invalidate each other's token."""
        lock_ttl_s = self._settings.api_timeout_s + 1.0  # outlives one fetch
        give_up_at = time.monotonic() + lock_ttl_s + 1.0
        while True:
            token = await self._store.load()
            if token:
                return token
            if await self._store.lock_refresh(lock_ttl_s):
                try:
                    return await self._store.load() or await self._fetch_token()
                finally:
                    await self._store.unlock_refresh()
            if time.monotonic() > give_up_at:  # the holder hangs past its lock: fetch anyway
                logger.warning("wechat.token.refresh_lock_stuck: fetching without it")
                return await self._fetch_token()
            await asyncio.sleep(REFRESH_POLL_S)

    async def _fetch_token(self) -> str:
        result = await self._call(
            "GET",
            TOKEN_PATH,
            {
                "grant_type": "client_credential",
                "appid": self._settings.app_id,
                "secret": self._settings.app_secret,
            },
        )
        token = result.get("access_token")
        if not isinstance(token, str) or not token:
            raise ApiError(int(result.get("errcode") or -1), str(result.get("errmsg", "")))
        expires_in = float(result.get("expires_in") or 7200)
        await self._store.save(token, max(60.0, expires_in - TOKEN_MARGIN_S))
        return token

    async def _call(
        self, method: str, path: str, params: dict[str, str], body: Any = None
    ) -> dict[str, Any]:
        """One HTTP call; the query (which holds secrets) is never logged."""
        data = None
        headers = {}
        if body is not None:
            # WeChat shows \\uXXXX escapes literally: send real UTF-8.
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        session = self._client()
        async with session.request(
            method, self._base + path, params=params, data=data, headers=headers
        ) as response:
            if response.status >= 500:
                raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)
            result = await response.json(content_type=None)
        if not isinstance(result, dict):
            raise ValueError("WeChat API answered with something other than a JSON object")
        return result

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop (Sanic's), never at import.
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self._settings.api_timeout_s)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        closer = getattr(self._store, "close", None)
        if closer is not None:
            await closer()
