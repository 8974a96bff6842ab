"""The open-loop part of `make bench`: the highest offered rate at which p95 stays ≤ 300 ms.

Open loop: messages arrive at a fixed rate whatever the replies do (a closed loop slows down
with the bot and so hides overload). Locust does it with paced visitors: `paced_visitors`
picks enough of them, each sending one message every `pacing_s` on its own slot of a shared
schedule (`PacedSchedule`), that the pacing and not the replies sets the rate — a visitor
falls behind only when a reply takes longer than its pacing (≥ 2 s), far past the 300 ms
limit, and a step that did not deliver the rate it offered fails.

The search (`search_highest_rate`) doubles the rate from 2 msg/s until a step fails (p95 over
the limit, any error, or the rate not delivered), then bisects between the last step that
held and the first that did not. No Locust and no servers here: run.py measures the steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from evaluation.bench.results import OpenLoopSearch, OpenLoopStep

P95_LIMIT_MS = 300.0
START_RATE_PER_S = 2.0
MAX_RATE_PER_S = 128.0  # far above what one instance on 2 cores answers: bounds the doubling
BISECTIONS = 3
# Longer than any reply of a step that passes, shorter than Sanic's 5 s keep-alive: visitors
# keep their connection between messages.
BASE_PACING_S = 2.0
MIN_DELIVERED_SHARE = 0.9  # a step must send ≥ 90% of the offered rate to count
RATE_DECIMALS = 2


def paced_visitors(rate_per_s: float, base_pacing_s: float = BASE_PACING_S) -> tuple[int, float]:
    """(visitors, seconds between each one's messages) that together offer `rate_per_s`.

    The pacing is never below `base_pacing_s`: rounding the visitors up lengthens it instead.
    """
    if rate_per_s <= 0:
        raise ValueError(f"an offered rate must be > 0, not {rate_per_s}")
    visitors = max(1, math.ceil(rate_per_s * base_pacing_s - 1e-9))
    return visitors, visitors / rate_per_s


@dataclass
class PacedSchedule:
    """When one paced visitor sends: every `interval_s` from `next_at` (its own slot).

    A slot missed while a reply was outstanding is dropped, not sent late in a burst: the
    delivered rate then falls short of the offered one, and the step fails for it.
    """

    interval_s: float
    next_at: float

    @classmethod
    def for_visitor(
        cls, index: int, visitors: int, interval_s: float, start_at: float
    ) -> PacedSchedule:
        """Visitor `index` of `visitors` sharing one schedule: slots evenly apart."""
        return cls(interval_s, start_at + (index % visitors) * interval_s / visitors)

    def wait_s(self, now: float) -> float:
        """Seconds until the next message is due (0 when late), moving on one slot."""
        self.next_at += self.interval_s
        if now > self.next_at:
            missed = math.floor((now - self.next_at) / self.interval_s)
            self.next_at += missed * self.interval_s
        return max(0.0, self.next_at - now)


def step_problem(step: OpenLoopStep, p95_limit_ms: float = P95_LIMIT_MS) -> str | None:
    """Why a step failed, or None when the bot held the offered rate."""
    level = step.level
    if level.requests == 0 or level.p95_ms is None:
        return "no request answered"
    # the bot's own empty replies are its model's gaps, not load: the error rows count them
    errors = level.failures - level.empty_replies
    if errors:
        return f"{errors} error{'s' if errors != 1 else ''}"
    if level.p95_ms > p95_limit_ms:
        return f"p95 {level.p95_ms:,.0f} ms > {p95_limit_ms:.0f} ms"
    if level.requests_per_s < MIN_DELIVERED_SHARE * step.offered_per_s:
        return f"sent only {level.requests_per_s:.1f} of {step.offered_per_s:g} msg/s"
    return None


def search_highest_rate(
    measure: Callable[[float], OpenLoopStep],
    p95_limit_ms: float = P95_LIMIT_MS,
    start_per_s: float = START_RATE_PER_S,
    max_per_s: float = MAX_RATE_PER_S,
    bisections: int = BISECTIONS,
) -> OpenLoopSearch:
    """Doubling from `start_per_s` until a step fails or `max_per_s` is reached, then
    `bisections` steps between the highest rate that held and the lowest that did not
    (0 when even the first failed). At most log2(max/start) + 1 + `bisections` steps."""
    search = OpenLoopSearch(p95_limit_ms)

    def held(rate: float) -> bool:
        step = measure(rate)
        problem = step_problem(step, p95_limit_ms)
        search.steps.append(replace(step, problem=problem))
        return problem is None

    held_at, failed_at = 0.0, None
    rate = start_per_s
    while True:
        if not held(rate):
            failed_at = rate
            break
        held_at = rate
        if rate * 2 > max_per_s:
            return search  # held at the ceiling: nothing to bisect
        rate *= 2
    for _ in range(bisections):
        rate = round((held_at + failed_at) / 2, RATE_DECIMALS)
        if rate in (held_at, failed_at):
            break  # as fine as the rates are written
        if held(rate):
            held_at = rate
        else:
            failed_at = rate
    return search
