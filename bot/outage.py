"""A dependency that just failed is left alone for a while, instead of every caller waiting out
its failure again (Redis, for the lock store, the rate limits and socket.io's pushes)."""

from __future__ import annotations

import time
from collections.abc import Callable


class Outage:
    """After `failed()`, `skipping()` is True for `retry_after_s`. `failed()` and `succeeded()`
    say whether the call began or ended an outage, so that it is logged once, not per call."""

    def __init__(self, retry_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._skip_until = 0.0
        self._ongoing = False

    def skipping(self) -> bool:
        """Whether the dependency is to be left alone now."""
        return self._clock() < self._skip_until

    def failed(self) -> bool:
        """Leaves the dependency alone for `retry_after_s` from now; True if an outage began."""
        began = not self._ongoing
        self._ongoing = True
        self._skip_until = self._clock() + self.retry_after_s
        return began

    def succeeded(self) -> bool:
        """True if this success ended an outage."""
        ended = self._ongoing
        self._ongoing = False
        self._skip_until = 0.0
        return ended
