"""bot.lock_store: ticket changes atomic across processes, against a real redis-server.

Rasa's own RedisLockStore is run through the same race first: the test shows the fault it
fixes (two processes, one ticket) rather than assuming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import AtomicRedisLockStore
from ops import harness

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server")


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    with _redis_server() as (port, _):
        yield port


@contextlib.contextmanager
def _redis_server(port: int | None = None) -> Iterator[tuple[int, int]]:
    """A throw-away redis-server on loopback (on `port`, else a free one): its port and pid."""
    port = port or harness.free_port()
    server = subprocess.Popen(
        ["redis-server", "--bind", harness.LOOPBACK, "--port", str(port), "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port).ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield port, server.pid
    finally:
        os.kill(server.pid, signal.SIGCONT)  # a test may have left it stopped
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture()
def slow_ticket_arithmetic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widens the window between reading a lock and writing it back, as a busy process would."""
    rasa_issue = TicketLock.issue_ticket

    def issue_ticket(self: TicketLock, lifetime: float) -> int:
        time.sleep(0.1)
        return rasa_issue(self, lifetime)

    monkeypatch.setattr(TicketLock, "issue_ticket", issue_ticket)


def _tickets_at_once(stores: list[LockStore], conversation: str) -> list[int]:
    """Each store (one per "instance", its own connection) takes a ticket at the same moment."""
    start = threading.Barrier(len(stores))
    tickets: list[int] = []

    def take(store: LockStore) -> None:
        start.wait()
        tickets.append(store.issue_ticket(conversation))

    threads = [threading.Thread(target=take, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return sorted(tickets)


def _stores(kind: type[RedisLockStore], port: int, count: int = 3) -> list[Any]:
    return [kind(host=harness.LOOPBACK, port=port, db=1) for _ in range(count)]


def test_rasas_store_gives_two_instances_the_same_ticket(
    redis_port: int, slow_ticket_arithmetic: None
) -> None:
    assert _tickets_at_once(_stores(RedisLockStore, redis_port), "rasa") == [0, 0, 0]


def test_each_instance_gets_its_own_ticket_in_turn(
    redis_port: int, slow_ticket_arithmetic: None
) -> None:
    stores = _stores(AtomicRedisLockStore, redis_port)
    assert _tickets_at_once(stores, "ours") == [0, 1, 2]
    lock = stores[0].get_lock("ours")
    assert lock is not None and lock.now_serving == 0


def test_a_finished_turn_hands_the_lock_on_and_the_last_one_deletes_it(redis_port: int) -> None:
    first, second = _stores(AtomicRedisLockStore, redis_port, 2)
    a, b = first.issue_ticket("handover"), second.issue_ticket("handover")
    first.cleanup("handover", a)  # someone waits: the lock stays, now serving b
    lock = second.get_lock("handover")
    assert lock is not None and lock.now_serving == b and not lock.is_locked(b)
    second.cleanup("handover", b)
    assert second.get_lock("handover") is None


def test_the_lock_serialises_turns_of_two_instances(redis_port: int) -> None:
    """Rasa's `lock()` context, as Agent.handle_message uses it: never two turns at once."""
    import asyncio

    stores = _stores(AtomicRedisLockStore, redis_port, 2)
    inside: list[int] = []
    overlaps: list[int] = []

    async def turn(store: LockStore) -> None:
        async with store.lock("turns", wait_time_in_seconds=0.01):
            inside.append(1)
            if len(inside) > 1:
                overlaps.append(len(inside))
            await asyncio.sleep(0.02)
            inside.pop()

    async def turns(store: LockStore) -> None:
        await asyncio.wait_for(asyncio.gather(*(turn(store) for _ in range(5))), 30)

    finished: list[LockStore] = []

    def run(store: LockStore) -> None:
        asyncio.run(turns(store))
        finished.append(store)

    threads = [threading.Thread(target=run, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=40)
    assert len(finished) == 2 and overlaps == []


def test_a_ticket_served_when_issued_is_not_read_back_and_a_waiting_one_is(
    redis_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    (store,) = _stores(AtomicRedisLockStore, redis_port, 1)
    reads: list[str] = []
    rasa_get_lock = store.get_lock
    monkeypatch.setattr(store, "get_lock", lambda key: reads.append(key) or rasa_get_lock(key))

    async def turn() -> None:
        async with store.lock("served", wait_time_in_seconds=0.01) as lock:
            assert not lock.is_locked(lock.now_serving)

    asyncio.run(turn())
    assert reads == []  # nobody waited: the issued lock said so
    waiting = store.issue_ticket("served")  # another turn holds the lock meanwhile

    async def release_soon() -> None:
        await asyncio.sleep(0.05)
        await asyncio.to_thread(store.cleanup, "served", waiting)

    async def turn_behind_another() -> None:
        await asyncio.gather(turn(), release_soon())

    asyncio.run(turn_behind_another())
    assert reads and set(reads) == {"served"}  # waited for its ticket by reading the lock
    assert store.get_lock("served") is None


def test_a_hung_redis_fails_turns_fast_and_never_freezes_the_event_loop() -> None:
    """Rasa's lock() called Redis on the event loop: with Redis hung, each turn froze every
    other one for the socket time-out (2 s), one after the other."""
    with _redis_server() as (port, pid):
        store = AtomicRedisLockStore(host=harness.LOOPBACK, port=port)
        assert store.issue_ticket("warm-up") == 0  # connected before the hang
        os.kill(pid, signal.SIGSTOP)
        failures, longest_stall = asyncio.run(_turns_against(store, turns=8))
    assert failures == [True] * 8
    assert longest_stall < 0.5


def test_the_first_turn_after_a_stopped_redis_is_back_gets_its_lock() -> None:
    """A refused connection fails in milliseconds, so it opens no fail-fast window (that is for
    time-outs, above): the visitor's first message after Redis restarts is answered."""
    port = harness.free_port()
    with _redis_server(port):
        store = AtomicRedisLockStore(host=harness.LOOPBACK, port=port)
        assert store.issue_ticket("warm-up") == 0
    stopped, _ = asyncio.run(_turns_against(store, turns=1))
    with _redis_server(port):
        back, _ = asyncio.run(_turns_against(store, turns=1))
    assert (stopped, back) == ([True], [False])


async def _turns_against(store: AtomicRedisLockStore, turns: int) -> tuple[list[bool], float]:
    """Whether each of `turns` concurrent turns failed with a LockError within 3 s, and the
    longest the event loop went without running a 20 ms ticker meanwhile."""
    stalls: list[float] = []

    async def ticker() -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(0.02)
            stalls.append(time.monotonic() - started)

    async def turn(number: int) -> bool:
        try:
            async with store.lock(f"hung-{number}"):
                return False
        except LockError:
            return True

    ticking = asyncio.create_task(ticker())
    try:
        failures = await asyncio.wait_for(asyncio.gather(*(turn(n) for n in range(turns))), 3)
    finally:
        ticking.cancel()
    return list(failures), max(stalls, default=0.0)


def test_rasa_builds_it_from_the_endpoint_config(redis_port: int) -> None:
    config = EndpointConfig(
        url=harness.LOOPBACK, type="bot.lock_store.AtomicRedisLockStore", port=redis_port, db=1,
        key_prefix="cyberweek",
    )  # fmt: skip
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.key_prefix == "cyberweek:lock:"
    assert store.red.connection_pool.connection_kwargs["socket_timeout"] == 2.0
    assert store.issue_ticket("configured") == 0
