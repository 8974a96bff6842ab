"""bot.desk.hours: the desk's opening hours in China time, and clear errors for a bad file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot import paths
from bot.desk.hours import DeskHours, HoursError, load_hours

UTC = dt.timezone.utc
CST = dt.timezone(dt.timedelta(hours=8))
NINE_TO_SIX = DeskHours(dt.time(9, 0), dt.time(18, 0))


def hours_file(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "hours.yml"
    path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (dt.datetime(2024, 9, 10, 8, 59, 59, tzinfo=CST), False),
        (dt.datetime(2024, 9, 10, 9, 0, tzinfo=CST), True),  # opens on the minute
        (dt.datetime(2024, 9, 10, 17, 59, 59, tzinfo=CST), True),
        (dt.datetime(2024, 9, 10, 18, 0, tzinfo=CST), False),  # closed at closing time
        # the same instants in UTC: the server's zone or the caller's does not matter
        (dt.datetime(2024, 9, 10, 0, 59, 59, tzinfo=UTC), False),
        (dt.datetime(2024, 9, 10, 1, 0, tzinfo=UTC), True),
        (dt.datetime(2024, 9, 10, 9, 59, 59, tzinfo=UTC), True),
        (dt.datetime(2024, 9, 10, 10, 0, tzinfo=UTC), False),
        # 20:00 in UTC is 04:00 the next day in China: closed, though 09-18 UTC would say open
        (dt.datetime(2024, 9, 10, 20, 0, tzinfo=UTC), False),
        (dt.datetime(2024, 9, 10, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))), False),
    ],
)
def test_open_exactly_within_the_hours_in_china_time(moment: dt.datetime, expected: bool) -> None:
    assert NINE_TO_SIX.is_open(moment) is expected


def test_hours_are_described_in_the_visitors_language() -> None:
    hours = DeskHours(dt.time(8, 30), dt.time(17, 5))
    assert "08:30–17:05" in hours.describe("zh") and "北京时间" in hours.describe("zh")
    assert hours.describe("en") == "daily 08:30–17:05 (China time)"


def test_the_projects_hours_file_loads_as_written() -> None:
    raw = yaml.safe_load(paths.DESK_HOURS_FILE.read_text(encoding="utf-8"))
    hours = load_hours()
    assert hours.opens == dt.time.fromisoformat(raw["opens"])
    assert hours.closes == dt.time.fromisoformat(raw["closes"])


def test_a_well_formed_file_is_read(tmp_path: Path) -> None:
    hours = load_hours(hours_file(tmp_path, 'opens: "08:00"\ncloses: "20:30"\n'))
    assert (hours.opens, hours.closes) == (dt.time(8, 0), dt.time(20, 30))


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ('opens: "9am"\ncloses: "18:00"\n', "opens"),
        ('opens: "09:00"\ncloses: "25:00"\n', "closes"),
        ('closes: "18:00"\n', "opens"),  # missing
        ('opens: "09:00"\n', "closes"),
        ('opens: "09:00"\ncloses:\n', "closes"),  # empty
        # unquoted, YAML 1.1 reads 9:00 as the sexagesimal number 540
        ('opens: 9:00\ncloses: "18:00"\n', "opens"),
    ],
)
def test_a_bad_time_names_the_field_and_the_file(tmp_path: Path, content: str, field: str) -> None:
    path = hours_file(tmp_path, content)
    with pytest.raises(HoursError, match=f'"{field}"') as error:
        load_hours(path)
    assert str(path) in str(error.value)


def test_opening_after_closing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HoursError, match='"opens" must be before "closes"'):
        load_hours(hours_file(tmp_path, 'opens: "18:00"\ncloses: "09:00"\n'))
    with pytest.raises(HoursError, match='"opens" must be before "closes"'):
        load_hours(hours_file(tmp_path, 'opens: "09:00"\ncloses: "09:00"\n'))


@pytest.mark.parametrize("content", ["- opens\n- closes\n", "", "just text\n"])
def test_a_file_that_is_not_a_mapping_says_what_it_expects(tmp_path: Path, content: str) -> None:
    with pytest.raises(HoursError, match='expected "opens" and "closes"'):
        load_hours(hours_file(tmp_path, content))


def test_a_missing_or_unparsable_file_is_an_hours_error(tmp_path: Path) -> None:
    with pytest.raises(HoursError, match="cannot read"):
        load_hours(tmp_path / "absent.yml")
    with pytest.raises(HoursError, match="cannot read"):
        load_hours(hours_file(tmp_path, 'opens: "09:00\ncloses: [\n'))
