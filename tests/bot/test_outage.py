"""bot.outage: a failed dependency left alone for a while, an outage reported once."""

from __future__ import annotations

from bot.outage import Outage
from tests.bot.nlu.helpers import FakeClock


def test_a_failure_leaves_the_dependency_alone_for_the_retry_time() -> None:
    clock = FakeClock()
    outage = Outage(5.0, clock)
    assert not outage.skipping()
    outage.failed()
    clock.now += 4.9
    assert outage.skipping()
    clock.now += 0.2
    assert not outage.skipping()  # tried again


def test_an_outage_begins_and_ends_once_whatever_the_number_of_calls() -> None:
    clock = FakeClock()
    outage = Outage(5.0, clock)
    assert [outage.failed(), outage.failed()] == [True, False]
    clock.now += 6
    assert outage.failed() is False  # a retry that failed again: the same outage
    assert [outage.succeeded(), outage.succeeded()] == [True, False]
    assert not outage.skipping()
    assert outage.failed() is True  # a new outage


def test_a_success_ends_the_wait_at_once() -> None:
    clock = FakeClock()
    outage = Outage(5.0, clock)
    outage.failed()
    outage.succeeded()
    assert not outage.skipping()
