"""How many turns one Rasa process runs at once, and how long a turn may wait for a place.

Rasa starts every arriving message's turn at once. A turn's CPU work (NLU, policies, the
tracker store's ORM code) runs on the one event loop, so a hundred turns in flight share it a
hundred ways: each takes a hundred times as long, and the custom action calls among them time
out (`ACTION_TIMEOUT_S`) even though the action server answered, because the loop reaches
their replies too late. At 100 closed-loop visitors, 45% of turns ended in the apology
(docs/benchmarks.md). With a bounded number of places, the turns that have one finish at the
speed of a quiet server and the rest wait in arrival order; a turn that cannot get a place
within `MAX_TURN_WAIT_S` is told the assistant is busy instead of waiting on.

Sanic and Rasa have no such bound (Sanic limits bodies and connections, not handlers in
flight), hence this small gate on asyncio's semaphore.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

# A turn mostly computes on the loop; a few at once still overlap one turn's waits (the
# action server, the tracker store's worker thread) with another's work (docs/decisions.md,
# "Admission of turns").
MAX_RUNNING_TURNS = 4
# A visitor who has waited this long for a place is told to try again: a widget shows
# "typing…" meanwhile and WeChat wants an answer within 15 s.
MAX_TURN_WAIT_S = 10.0
# Waiting turns hold a request each; beyond this many, a turn is turned away at once.
MAX_WAITING_TURNS = 500


class TurnGate:
    """At most `running` turns at once; others wait in arrival order, for `wait_s` at most."""

    def __init__(
        self,
        running: int = MAX_RUNNING_TURNS,
        wait_s: float = MAX_TURN_WAIT_S,
        waiting: int = MAX_WAITING_TURNS,
    ) -> None:
        if running < 1:
            raise ValueError("running must be at least 1")
        self._running = running
        self._wait_s = wait_s
        self._max_waiting = waiting
        self._waiting = 0
        self._places: asyncio.Semaphore | None = None  # made on the serving loop

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextlib.asynccontextmanager
    async def place(self) -> AsyncIterator[bool]:
        """Yields True once the turn holds a place (released on exit), False when it is
        turned away: the gate is full and too many wait, or no place came within wait_s."""
        if self._places is None:
            self._places = asyncio.Semaphore(self._running)
        places = self._places
        if places.locked() and self._waiting >= self._max_waiting:
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
        try:
            yield True
        finally:
            places.release()
