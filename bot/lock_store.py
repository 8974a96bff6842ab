"""Rasa's Redis lock store, with each change of a conversation's lock atomic across processes.

Rasa serialises the turns of one conversation with a ticket lock kept in Redis: a turn takes a
ticket, waits until it is served, and hands the lock on. Rasa's `RedisLockStore` changes the
lock by GET, change in Python, SET (Rasa issue #9213): two instances taking a ticket for the
same conversation at the same moment both read "no ticket", both get ticket 0 and run their
turns at once — interleaved events, one turn's slots lost; and a turn that finishes while
another takes a ticket may delete the lock under it (that turn then fails with LockError).

Hand-written because Rasa 3.6 has no atomic store and a lock library (redis-py's `Lock`,
Redlock) would not keep Rasa's first-come-first-served tickets, which keep a visitor's
messages in the order they arrived. Each read-change-write here reads the lock, changes it
with Rasa's `TicketLock` arithmetic and stores it with a compare-and-set script (GET, then the
script: two round trips, where WATCH / GET / MULTI-EXEC took three): if another process
changed the lock in between, the write is refused and the change is made again on the new
value. Only the storing differs from Rasa's. Configured in deploy/endpoints.prod.yml as
`type: bot.lock_store.AtomicRedisLockStore` with RedisLockStore's own settings.

Rasa's `lock()` also calls Redis synchronously on the event loop: with Redis hung, each turn
froze the whole instance (every visitor, socket.io's heartbeats) for the socket time-out. Here
the calls run on a thread of the store's own, and for REDIS_RETRY_AFTER_S after a ticket that
timed out a turn fails at once instead of waiting out another time-out. A refused connection
(Redis stopped) fails in milliseconds and opens no such window: the first turn after Redis is
back gets its lock.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.outage import Outage

logger = logging.getLogger(__name__)

# A Redis socket that stops answering (a hung Redis, a dropped network) fails the turn after
# this long (Rasa's default is 10 s): the visitor gets the apology of bot.unavailable within
# the 3 s the action server is also given.
DEFAULT_SOCKET_TIMEOUT_S = 2.0
REDIS_RETRY_AFTER_S = 2.0
# A failed ticket that took this long waited out the socket time-out (a hung Redis), rather
# than being refused at once.
TIMED_OUT_AFTER_S = 0.5

T = TypeVar("T")

# KEYS[1] is replaced only if it still holds what the caller read: ARGV = expected present
# ("1"/"0"), expected value, new present ("1"/"0": else delete), new value. Redis runs a script
# atomically: no other command comes between its GET and its SET.
COMPARE_AND_SET = """
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], ARGV[4])
else
  redis.call('DEL', KEYS[1])
end
return 1
"""


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose ticket changes cannot be lost to a concurrent change."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        # Rasa builds a custom lock store from its endpoint config alone; tests pass kwargs.
        settings: dict[str, Any] = {"socket_timeout": DEFAULT_SOCKET_TIMEOUT_S}
        if endpoint_config is not None:
            settings.update(endpoint_config.kwargs)
            settings["host"] = endpoint_config.url or "localhost"
        settings.update(kwargs)
        super().__init__(**settings)
        # One thread: an instance's turns take their tickets in the order they arrived, as
        # they did on the event loop.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="lock-store")
        self._compare_and_set = self.red.register_script(COMPARE_AND_SET)  # EVALSHA
        self._redis_outage = Outage(REDIS_RETRY_AFTER_S)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's `LockStore.lock`, with Redis called off the event loop. A ticket served by
        the lock it was issued in (nobody else waiting, nearly every turn) is not read back
        first: only its own holder removes it, so it stays served."""
        ticket, issued_in = await self._off_loop(self._new_ticket, conversation_id, lock_lifetime)
        try:
            if not issued_in.is_locked(ticket):
                yield issued_in
            else:
                yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            await self._off_loop(self.cleanup, conversation_id, ticket)

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """Rasa's wait for the ticket to be served (same steps, Redis off the loop)."""
        while (lock := await self._off_loop(self.get_lock, conversation_id)) is not None:
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            await self._off_loop(self.update_lock, conversation_id)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")

    async def _off_loop(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, functools.partial(call, *args)
        )

    def _new_ticket(self, conversation_id: str, lock_lifetime: float) -> tuple[int, TicketLock]:
        """A ticket and the lock as stored with it, unless Redis timed out lately: checked on
        the thread, so that turns queued behind a call that times out fail at once. (A turn
        that has its ticket always hands it on.)"""
        if self._redis_outage.skipping():
            raise LockError("Error while acquiring lock: Redis timed out a moment ago")
        started = time.monotonic()
        try:
            issued = self._issue_ticket_in_lock(conversation_id, lock_lifetime)
        except LockError:
            if time.monotonic() - started >= TIMED_OUT_AFTER_S:
                self._redis_outage.failed()
            raise
        self._redis_outage.succeeded()
        return issued

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        return self._issue_ticket_in_lock(conversation_id, lock_lifetime)[0]

    def _issue_ticket_in_lock(
        self, conversation_id: str, lock_lifetime: float
    ) -> tuple[int, TicketLock]:
        def take(lock: TicketLock) -> tuple[TicketLock | None, tuple[int, TicketLock]]:
            return lock, (lock.issue_ticket(lock_lifetime), lock)

        try:
            return self._change(conversation_id, take, create=True)
        except Exception as error:  # as Rasa's: the turn fails with a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: TicketLock) -> tuple[TicketLock | None, None]:
            lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def hand_on(lock: TicketLock) -> tuple[TicketLock | None, None]:
            lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, hand_on)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Hands the lock on, and deletes it when nobody waits — in one step, so that a ticket
        taken meanwhile is never deleted with it."""

        def hand_on_or_delete(lock: TicketLock) -> tuple[TicketLock | None, None]:
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, hand_on_or_delete)

    def _change(
        self,
        conversation_id: str,
        change: Callable[[TicketLock], tuple[TicketLock | None, Any]],
        create: bool = False,
    ) -> Any:
        """Applies `change` to the stored lock atomically and returns its result.

        `change` gets the lock and returns what to store (None: delete it) and a result; it
        runs again when another process changed the lock meanwhile. Without a stored lock
        nothing is changed, unless `create`.
        """
        key = self.key_prefix + conversation_id
        while True:
            stored = self.red.get(key)
            if stored is None and not create:
                return None
            lock = TicketLock.from_dict(_loads(stored)) if stored else TicketLock(conversation_id)
            new_lock, result = change(lock)
            new = None if new_lock is None else new_lock.dumps()
            if self._replaced(key, stored, new):
                return result

    def _replaced(self, key: str, expected: bytes | None, new: str | None) -> bool:
        """Stores `new` (None: deletes the key) if the key still holds `expected` (None: is
        absent): one round trip, where WATCH / GET / MULTI-EXEC took three."""
        arguments = ["1" if expected is not None else "0", expected or b""]
        arguments += ["1" if new is not None else "0", new or ""]
        return bool(self._compare_and_set(keys=[key], args=arguments))


def _loads(stored: bytes | str) -> dict[str, Any]:
    return dict(json.loads(stored))
