"""python-socketio's Redis manager, with a hung or dead Redis costing a push little time.

`AsyncRedisManager.emit` delivers to this process's sockets, then publishes the message for
the other instances, waiting on Redis without a time-out (its pub/sub listener shares the
client, so a socket time-out would also break the idle listener). With Redis hung, every turn
of the widget then hung after its reply was delivered, holding one of the instance's turn
places (bot/admission.py) until Redis came back: four such turns and the instance answered
nobody, REST included. Here a publish gives up after PUBLISH_TIMEOUT_S, and after a failure the
next REDIS_RETRY_AFTER_S of pushes stay local (the visitors on other instances catch up on
staff messages when their widget reconnects).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import socketio

from bot.outage import Outage

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 1.0
REDIS_RETRY_AFTER_S = 5.0


class BoundedRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    def __init__(self, url: str, channel: str, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(url, channel=channel)
        self._redis_outage = Outage(REDIS_RETRY_AFTER_S, clock)

    async def _publish(self, data: Any) -> Any:
        if self._redis_outage.skipping():
            return None
        try:
            published = await asyncio.wait_for(super()._publish(data), PUBLISH_TIMEOUT_S)
        except asyncio.TimeoutError:
            published = None
        if published is None:  # python-socketio logged the error, or it timed out
            if self._redis_outage.failed():
                logger.warning(
                    "socket.io pushes stay on this instance, Redis tried every %.0f s: "
                    "it did not take one",
                    REDIS_RETRY_AFTER_S,
                )
        elif self._redis_outage.succeeded():
            logger.info("socket.io pushes reach every instance again: Redis took one")
        return published
