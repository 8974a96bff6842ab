"""Locust's script for `make bench`: simulated visitors asking the assistant over REST.

Run by evaluation/bench/run.py as `python -m locust -f evaluation/bench/locustfile.py
--headless ...`; each user is one visitor at a time (closed loop: the next message goes as soon
as the reply is in), each conversation a sender of its own. `--warmup-s` resets the statistics
after the warm-up, so the CSV holds only the measured part.
"""

from __future__ import annotations

import random
from typing import Any

import gevent
from locust import FastHttpUser, constant, events, task
from locust.env import Environment

from evaluation.bench import REST_WEBHOOK_PATH
from evaluation.bench.traffic import new_sender, pick_conversation, reply_failure, turn_names


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--warmup-s", type=float, default=0.0, help="seconds of load not counted in the stats"
    )


@events.test_start.add_listener
def _reset_stats_after_warmup(environment: Environment, **_: Any) -> None:
    warmup_s = float(environment.parsed_options.warmup_s) if environment.parsed_options else 0.0
    if warmup_s > 0:
        gevent.spawn_later(warmup_s, environment.stats.reset_all)


class Visitor(FastHttpUser):
    """One visitor after another: a question, sometimes a follow-up, then a new visitor."""

    wait_time = constant(0)  # closed loop: throughput is what the bot can take
    # FastHttpUser (geventhttpclient): the load generator shares the 2 cores with the bot,
    # so it must cost as little CPU per request as possible.
    network_timeout = 60.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.rng = random.Random()

    @task
    def conversation(self) -> None:
        turns = pick_conversation(self.rng)
        sender = new_sender()
        for text, name in zip(turns, turn_names(turns)):
            if not self.send(sender, text, name):
                return  # a follow-up after a failed turn would measure nothing useful

    def send(self, sender: str, text: str, name: str) -> bool:
        with self.client.post(
            REST_WEBHOOK_PATH,
            json={"sender": sender, "message": text},
            name=name,
            catch_response=True,
        ) as response:
            problem = reply_failure(response.status_code, response.text)
            if problem is None:
                response.success()
                return True
            response.failure(problem)
            return False
