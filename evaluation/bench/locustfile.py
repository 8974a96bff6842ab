"""Locust's script for `make bench`: simulated visitors asking the assistant over REST.

Run by evaluation/bench/run.py as `python -m locust -f evaluation/bench/locustfile.py
--headless ...`; each user is one visitor at a time, each conversation a sender of its own.
Closed loop by default: the next message goes as soon as the reply is in. With `--pacing-s P`,
open loop (evaluation/bench/open_loop.py): user i of N sends one message every P seconds on
its own slot, i·P/N after a shared start, so that N users offer N/P messages a second.
`--warmup-s` resets the statistics after the warm-up, so the CSV holds only the measured part.
"""

from __future__ import annotations

import itertools
import random
import time
from typing import Any

import gevent
from locust import FastHttpUser, events, task
from locust.env import Environment

from evaluation.bench import REST_WEBHOOK_PATH
from evaluation.bench.open_loop import PacedSchedule
from evaluation.bench.traffic import new_sender, pick_conversation, reply_failure, turn_names

SCHEDULE_DELAY_S = 1.0  # between the test's start and the first slot: every user spawned by then
_visitor_numbers = itertools.count()  # one Locust process per run: user i gets slot i
_schedule_start: list[float] = []  # set when the test starts


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--warmup-s", type=float, default=0.0, help="seconds of load not counted in the stats"
    )
    parser.add_argument(
        "--pacing-s",
        type=float,
        default=0.0,
        help="open loop: each user sends one message every this many seconds (0: closed loop)",
    )


@events.test_start.add_listener
def _reset_stats_after_warmup(environment: Environment, **_: Any) -> None:
    warmup_s = float(environment.parsed_options.warmup_s) if environment.parsed_options else 0.0
    if warmup_s > 0:
        gevent.spawn_later(warmup_s, environment.stats.reset_all)
    _schedule_start.append(time.monotonic() + SCHEDULE_DELAY_S)


def _option(environment: Environment, name: str, default: float) -> float:
    options = environment.parsed_options
    return float(getattr(options, name, default)) if options else default


class Visitor(FastHttpUser):
    """One visitor after another: a question, sometimes a follow-up, then a new visitor.

    One message per task, so that a paced (open-loop) user sends one message per slot; a
    follow-up goes on the same user's next slot, after the reply to its question.
    """

    # FastHttpUser (geventhttpclient): the load generator shares the 2 cores with the bot,
    # so it must cost as little CPU per request as possible.
    network_timeout = 60.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.rng = random.Random()
        self.sender = ""
        self.pending: list[tuple[str, str]] = []  # (text, request name) still to send
        self.schedule: PacedSchedule | None = None
        pacing_s = _option(self.environment, "pacing_s", 0.0)
        if pacing_s > 0:
            visitors = max(1, int(_option(self.environment, "num_users", 1)))
            start = _schedule_start[0] if _schedule_start else time.monotonic()
            self.schedule = PacedSchedule.for_visitor(
                next(_visitor_numbers), visitors, pacing_s, start
            )
            gevent.sleep(max(0.0, self.schedule.next_at - time.monotonic()))

    def wait_time(self) -> float:
        """Closed loop: none (throughput is what the bot can take); open loop: to the next slot."""
        return 0.0 if self.schedule is None else self.schedule.wait_s(time.monotonic())

    @task
    def next_message(self) -> None:
        if not self.pending:
            turns = pick_conversation(self.rng)
            self.sender = new_sender()
            self.pending = list(zip(turns, turn_names(turns)))
        text, name = self.pending.pop(0)
        if not self.send(self.sender, text, name):
            self.pending = []  # a follow-up after a failed turn would measure nothing useful

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
