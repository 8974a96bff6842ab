"""How many turns one Rasa process runs at once, and how long a turn may wait for a place.

Rasa starts every arriving message's turn at once. A turn's CPU work (NLU, policies, the
tracker store's ORM code) runs on the one event loop, so a hundred turns in flight share it a
hundred ways: each takes a hundred times as long, and the custom action calls among them time
out (`ACTION_TIMEOUT_S`) even though the action server answered, because the loop reaches
their replies too late. At 100 closed-loop visitors, 45% of turns ended in the apology
(docs/benchmarks.md). With a bounded number of places, the turns that have one finish at the
speed of a quiet server and the rest wait in arrival order. A turn that would wait longer
than `MAX_EXPECTED_WAIT_S` is told at once that the assistant is busy.

Sanic and Rasa have no such bound (Sanic limits bodies and connections, not handlers in
flight), hence this small gate on asyncio's semaphore.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

# A turn mostly computes on the loop; a few at once still overlap one turn's waits (the
# action server, the tracker store's thread) with another's work (docs/decisions.md,
# "Admission of turns").
MAX_RUNNING_TURNS = 4
# A turn whose expected wait for a place (the turns ahead of it × the recent time a turn holds
# one ÷ the places) is longer than this is told at once that the assistant is busy: better
# than waiting only to hear it, or asking again at the back of the line. A widget shows
# "typing…" meanwhile.
MAX_EXPECTED_WAIT_S = 12.0
# An admitted turn still gives up after this long without a place (the estimate was wrong:
# turns ahead of it took far longer than the recent ones).
MAX_TURN_WAIT_S = 30.0
# Waiting turns hold a request each; beyond this many, a turn is turned away at once.
MAX_WAITING_TURNS = 500
# Weight of the latest turn in the moving average of how long a turn holds a place.
HOLD_AVERAGE_WEIGHT = 0.1


class TurnGate:
    """At most `running` turns at once; others wait in arrival order, unless the wait they
    can expect is over `expected_wait_s`, and for `wait_s` at most."""

    def __init__(
        self,
        running: int = MAX_RUNNING_TURNS,
        expected_wait_s: float = MAX_EXPECTED_WAIT_S,
        wait_s: float = MAX_TURN_WAIT_S,
        waiting: int = MAX_WAITING_TURNS,
    ) -> None:
        if running < 1:
            raise ValueError("running must be at least 1")
        self._running = running
        self._expected_wait_s = expected_wait_s
        self._wait_s = wait_s
        self._max_waiting = waiting
        self._waiting = 0
        self._hold_s = 0.0  # moving average; 0 until a turn has finished
        self._places: asyncio.Semaphore | None = None  # made on the serving loop

    @property
    def waiting(self) -> int:
        return self._waiting

    def expected_wait_s(self) -> float:
        """How long a turn arriving now can expect to wait for a place."""
        return (self._waiting + 1) * self._hold_s / self._running

    def _turned_away_at_once(self, places: asyncio.Semaphore) -> bool:
        if not places.locked():
            return False
        return self._waiting >= self._max_waiting or self.expected_wait_s() > self._expected_wait_s

    def _held(self, seconds: float) -> None:
        weight = HOLD_AVERAGE_WEIGHT if self._hold_s else 1.0
        self._hold_s += weight * (seconds - self._hold_s)

    @contextlib.asynccontextmanager
    async def place(self) -> AsyncIterator[bool]:
        """Yields True once the turn holds a place (released on exit), False when it is
        turned away: too long a wait expected, too many waiting, or no place within wait_s."""
        if self._places is None:
            self._places = asyncio.Semaphore(self._running)
        places = self._places
        if self._turned_away_at_once(places):
            yield False
            return
        self._waiting += 1
        try:
            await asyncio.wait_for(places.acquire(), self._wait_s)
        except asyncio.TimeoutError:
            admitted = False
        else:
            admitted = True
        finally:
            self._waiting -= 1
        if not admitted:
            yield False
            return
        started = time.monotonic()
        try:
            yield True
        finally:
            self._held(time.monotonic() - started)
            places.release()
