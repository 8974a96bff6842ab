"""bot.clock: real time in China, or the time pinned by CYBERWEEK_NOW."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot import clock


def test_unset_gives_the_real_time_in_shanghai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CYBERWEEK_NOW", raising=False)
    moment = clock.now()
    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(hours=8)
    assert abs(moment - datetime.now(timezone.utc)) < timedelta(seconds=5)
    assert clock.today() == datetime.now(timezone(timedelta(hours=8))).date()


def test_pinned_aware_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYBERWEEK_NOW", "2024-09-10T10:00:00+08:00")
    assert clock.now() == datetime(2024, 9, 10, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    assert clock.now().utcoffset() == timedelta(hours=8)
    assert clock.today() == date(2024, 9, 10)


def test_pinned_naive_value_is_china_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYBERWEEK_NOW", "2024-09-10T10:00:00")
    assert clock.now() == datetime(2024, 9, 10, 2, 0, tzinfo=timezone.utc)


def test_pinned_value_in_another_zone_is_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYBERWEEK_NOW", "2024-09-09T23:30:00Z")
    assert clock.now().isoformat() == "2024-09-10T07:30:00+08:00"
    assert clock.today() == date(2024, 9, 10)


def test_pinned_date_only_is_midnight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYBERWEEK_NOW", " 2024-09-15 ")
    assert clock.now().isoformat() == "2024-09-15T00:00:00+08:00"


@pytest.mark.parametrize("value", ["tomorrow", "2024-13-01", "10/09/2024", "2024-09-10T25:00"])
def test_invalid_value_raises_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CYBERWEEK_NOW", value)
    with pytest.raises(ValueError, match="CYBERWEEK_NOW") as raised:
        clock.now()
    assert "ISO 8601" in str(raised.value)
    with pytest.raises(ValueError, match="CYBERWEEK_NOW"):
        clock.today()


def test_empty_value_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYBERWEEK_NOW", "")
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)
