"""Per-client rate limits in the app (issue #15): REST, the widget's socket.io, WeChat, the
staff console's sign-in.

nginx limits requests per address in the production profile, but `make run` has no nginx, and
only the app knows a conversation (a REST `sender`, a widget socket, a WeChat OpenID) from an
address: a venue's Wi-Fi puts hundreds of visitors behind one. So the channels ask here first,
and a client over a limit is told to slow down (bot/unavailable.py) without its message reaching
Rasa. The numbers are bot/limits.py's (`RATE_LIMITS`, each overridable by environment).

Counting is the `limits` library's moving window (alisaifee/limits; 2.4.0, the last release that
installs beside Rasa 3.6's `packaging<21` pin). Counts live in Redis when REDIS_URL is set, so
every instance shares them, and in the process otherwise. limits 2.4's asyncio Redis storage
needs coredis 2 (an old sdist), so its synchronous Redis storage (redis-py, Rasa's own) runs on
a small thread pool of its own, with short timeouts. A Redis that fails never stops an answer:
the counts fall back to memory (logged once), and Redis is tried again after REDIS_RETRY_S.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bot.cache import TtlCache
from bot.limits import MAX_HELD_REFUSALS, RATE_LIMITS, RATE_LIMITS_SWITCH_ENV, REFUSAL_HOLD_S
from bot.outage import Outage

with warnings.catch_warnings():  # limits 2.4 imports pkg_resources, deprecated by setuptools
    warnings.simplefilter("ignore", DeprecationWarning)
    import limits
    from limits.storage import MemoryStorage, RedisStorage
    from limits.strategies import MovingWindowRateLimiter

logger = logging.getLogger(__name__)

KEY_PREFIX = "cyberweek-rate"  # the keys' namespace in Redis (REDIS_URL's database)
REDIS_TIMEOUT_S = 0.5  # a Redis that hangs costs a visitor at most this, then memory counts
REDIS_RETRY_S = 30.0  # after a failure, memory counts for this long before Redis is tried again
OFF_VALUES = frozenset({"off", "0", "false", "no"})
REFUSAL_LOG_S = 60.0  # a client over a limit is logged once a minute, not once per message
# limits' MemoryStorage empties a key's window but never forgets the key: one entry per
# conversation, socket and address ever seen. Every this many hits counted in memory, the keys
# whose windows are empty are dropped (`_sweep_memory`).
MEMORY_SWEEP_EVERY = 10_000


class RateLimitConfigError(ValueError):
    """An operator's override that the limits library cannot read: refused at start-up."""


@dataclass(frozen=True)
class Verdict:
    """Whether a hit was counted; when not, how many seconds until it would be."""

    allowed: bool
    retry_after_s: int = 0


ALLOWED = Verdict(True)


def rules_from_env(environ: Mapping[str, str]) -> dict[str, limits.RateLimitItem]:
    """bot/limits.py's rules, each replaced by its environment variable when set."""
    rules: dict[str, limits.RateLimitItem] = {}
    for name, (default, variable) in RATE_LIMITS.items():
        text = environ.get(variable, "").strip() or default
        try:
            rules[name] = limits.parse(text)
        except ValueError:
            raise RateLimitConfigError(
                f'{variable}={text!r} is not a rate limit: write it as "5 per 5 seconds" '
                f'or "20/second" (docs/security.md, Rate limits)'
            ) from None
    return rules


def limits_enabled(environ: Mapping[str, str]) -> bool:
    return environ.get(RATE_LIMITS_SWITCH_ENV, "").strip().lower() not in OFF_VALUES


def client_ip(request: Any) -> str:
    """The client's address: the proxy's X-Real-IP when Sanic is told to trust it (the
    production profile sets SANIC_REAL_IP_HEADER), else the connection's peer."""
    return (getattr(request, "remote_addr", "") or getattr(request, "ip", "") or "unknown")[:64]


class RateLimiter:
    """Counts hits per (rule, client key); one per channel, created when its routes are."""

    def __init__(
        self,
        rules: Mapping[str, limits.RateLimitItem],
        redis_url: str = "",
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        memory_sweep_every: int = MEMORY_SWEEP_EVERY,
    ) -> None:
        self.rules = dict(rules)
        self.enabled = enabled
        # the strategies hold their storage by weak reference: the limiter keeps them alive
        self._memory_storage = MemoryStorage()
        self._memory = MovingWindowRateLimiter(self._memory_storage)
        self._memory_hits = 0
        self._memory_sweep_every = memory_sweep_every
        self._redis: MovingWindowRateLimiter | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._redis_outage = Outage(REDIS_RETRY_S, clock)
        self._held_refusals = 0
        self._logged: TtlCache[tuple[str, str], bool] = TtlCache(REFUSAL_LOG_S, 10_000)
        if redis_url and enabled:
            self._redis_storage = RedisStorage(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_S,
                socket_connect_timeout=REDIS_TIMEOUT_S,
            )
            self._redis = MovingWindowRateLimiter(self._redis_storage)
            # its own threads: a slow Redis must not take the ones Rasa's SQL calls use
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rate-limits")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RateLimiter:
        env = os.environ if environ is None else environ
        return cls(
            rules_from_env(env),
            env.get("REDIS_URL", "").strip(),
            enabled=limits_enabled(env),
        )

    @property
    def shared(self) -> bool:
        """True while the counts are Redis's (shared by every instance)."""
        return self._redis is not None and not self._redis_outage.skipping()

    async def hit_all(self, *checks: tuple[str, str]) -> Verdict:
        """Counts one hit against each (rule, key) in turn and stops at the first refusal.

        The stricter, narrower rule goes first (the conversation, then its address): a hit the
        conversation refuses is not counted against the address, so one flooding conversation
        does not use up the budget of everyone behind the same Wi-Fi.
        """
        if not self.enabled:
            return ALLOWED
        for rule, key in checks:
            verdict = await self.hit(rule, key)
            if not verdict.allowed:
                self._log_refusal(rule, key)
                return verdict
        return ALLOWED

    async def hold_refusal(self, verdict: Verdict) -> None:
        """Waits before a refusal is answered (REFUSAL_HOLD_S at most, never past its retry
        time), unless MAX_HELD_REFUSALS are already waiting: then it is answered at once."""
        if verdict.allowed or self._held_refusals >= MAX_HELD_REFUSALS:
            return
        self._held_refusals += 1
        try:
            await asyncio.sleep(min(REFUSAL_HOLD_S, verdict.retry_after_s))
        finally:
            self._held_refusals -= 1

    def _log_refusal(self, rule: str, key: str) -> None:
        if self._logged.get((rule, key)) is None:
            self._logged.put((rule, key), True)
            logger.warning("rate limit %s (%s) reached by %s", rule, self.rules[rule], key)

    async def hit(self, rule: str, key: str) -> Verdict:
        if not self.enabled:
            return ALLOWED
        item = self.rules[rule]
        identifiers = (KEY_PREFIX, rule, key)
        if self.shared:
            assert self._redis is not None
            try:
                verdict = await asyncio.get_running_loop().run_in_executor(
                    self._executor, _counted, self._redis, item, identifiers
                )
            except Exception as error:  # any Redis failure: count in memory, keep answering
                self._redis_failed(error)
            else:
                if self._redis_outage.succeeded():
                    logger.info("rate limits: Redis is back; counts are shared again")
                return verdict
        verdict = _counted(self._memory, item, identifiers)
        self._memory_hits += 1
        if self._memory_hits % self._memory_sweep_every == 0:
            self._sweep_memory()
        return verdict

    def _sweep_memory(self) -> None:
        """A fresh memory storage with only the windows still counting.

        Swapped rather than emptied in place: the old storage's expiry timer (a thread of the
        limits library) may be walking its dict, which nothing changes any more. Runs on the
        event loop, as every memory hit does, so no hit is counted meanwhile.
        """
        previous = self._memory_storage
        fresh = MemoryStorage()
        fresh.events = {key: window for key, window in list(previous.events.items()) if window}
        self._memory_storage = fresh
        self._memory = MovingWindowRateLimiter(fresh)

    def _redis_failed(self, error: Exception) -> None:
        if self._redis_outage.failed():  # once per outage, not once per message
            logger.warning(
                "rate limits: Redis failed (%s); counting in this process until it is back",
                error,
            )

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)


def _counted(
    strategy: MovingWindowRateLimiter, item: limits.RateLimitItem, identifiers: tuple[str, ...]
) -> Verdict:
    if strategy.hit(item, *identifiers):
        return ALLOWED
    reset_at, _ = strategy.get_window_stats(item, *identifiers)
    return Verdict(False, max(1, math.ceil(reset_at - time.time())))
