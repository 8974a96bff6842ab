"""The help desk's opening hours, read from data/desk/hours.yml (China time)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot import paths
from bot.clock import CHINA_TZ
from bot.lang import Lang


class HoursError(ValueError):
    """The hours file is missing or malformed; the message names the file and the field."""


@dataclass(frozen=True)
class DeskHours:
    opens: dt.time
    closes: dt.time

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(CHINA_TZ).time()
        return self.opens <= local < self.closes

    def describe(self, lang: Lang) -> str:
        span = f"{self.opens:%H:%M}–{self.closes:%H:%M}"
        return f"每天 {span}（北京时间）" if lang == "zh" else f"daily {span} (China time)"


def _time(raw: object, field: str, path: Path) -> dt.time:
    try:
        return dt.time.fromisoformat(str(raw))
    except ValueError:
        raise HoursError(f'{path}: "{field}" must be a time like "09:00", not {raw!r}') from None


def load_hours(path: Path = paths.DESK_HOURS_FILE) -> DeskHours:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise HoursError(f"{path}: cannot read the desk's hours ({error})") from error
    if not isinstance(raw, dict):
        raise HoursError(f'{path}: expected "opens" and "closes"')
    hours = DeskHours(
        _time(raw.get("opens"), "opens", path), _time(raw.get("closes"), "closes", path)
    )
    if hours.opens >= hours.closes:
        raise HoursError(f'{path}: "opens" must be before "closes"')
    return hours
