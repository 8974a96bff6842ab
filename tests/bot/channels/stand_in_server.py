"""A Rasa-shaped server with a stand-in agent, in a process of its own, for the fairness test
(tests/bot/channels/test_rate_limited_channels.py): the REST channel as Rasa registers it, the
rate limits from the environment, and an agent that holds the event loop as the NLU does.

    python -m tests.bot.channels.stand_in_server PORT

GET /stand-in/messages tells how many messages reached the agent, per conversation.
"""

from __future__ import annotations

import asyncio
import collections
import os
import sys
import time
from typing import Any

from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic
from sanic.response import json

from bot.channels.rest import ValidatingRestInput
from ops.rasa_entry import cap_request_sizes

# What one message costs the stand-in: the NLU holds the event loop (featurizers and DIET run
# on it, which is why a flood starved everyone before), then the action server is awaited.
NLU_S = 0.01
ACTION_S = 0.03


class NoOutbox:
    def take_outgoing(self, sender: str) -> list[Any]:
        return []

    def queue_outgoing(self, *args: Any) -> None:
        return None


class BusyAgent:
    def __init__(self) -> None:
        self.messages: collections.Counter[str] = collections.Counter()

    async def handle_message(self, message: UserMessage) -> None:
        self.messages[message.sender_id] += 1
        deadline = time.perf_counter() + NLU_S
        while time.perf_counter() < deadline:  # busy, as a model is: the loop waits
            pass
        await asyncio.sleep(ACTION_S)
        await message.output_channel.send_text_message(message.sender_id, "ok")


def build_app() -> Sanic:
    env: dict[str, str] = {}
    cap_request_sizes(env)
    os.environ.update(env)  # before the app exists: Sanic reads them when it is created
    app = Sanic("stand_in")
    agent = BusyAgent()
    app.ctx.agent = agent
    register([ValidatingRestInput(store=NoOutbox())], app, route="/webhooks/")  # type: ignore[list-item]

    @app.get("/stand-in/messages")
    async def messages(_: Any) -> Any:
        return json(dict(agent.messages))

    return app


if __name__ == "__main__":
    build_app().run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False)
