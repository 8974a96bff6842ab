"""The assistant's idea of "now", in China Standard Time.

Every relative answer ("today", "明天", "周二") depends on the current day in Guangzhou, not on
the server's zone. Demos and tests need to pretend it is, say, Tuesday of the event week, so
`CYBERWEEK_NOW` (ISO 8601) pins the clock; everything that needs the time asks this module.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_VAR = "CYBERWEEK_NOW"
EXPECTED_FORMAT = "ISO 8601, e.g. 2024-09-10T10:00:00+08:00 (a value without offset is China time)"


def _china_zone() -> tzinfo:
    """Asia/Shanghai, or a fixed +08:00 where the system has no tz database.

    China has had no daylight saving since 1991, so the fixed offset gives identical answers.
    """
    try:
        return ZoneInfo("Asia/Shanghai")
    except ZoneInfoNotFoundError:  # pragma: no cover - minimal containers only
        return timezone(timedelta(hours=8), "CST")


CHINA_TZ: tzinfo = _china_zone()


def parse_now(value: str) -> datetime:
    """Parse a `CYBERWEEK_NOW` value; naive values are taken as China time.

    Raises ValueError naming the variable, so a typo in a demo set-up is obvious at once
    instead of silently answering for the real date.
    """
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(
            f"{ENV_VAR}={value!r} is not a valid date-time; expected {EXPECTED_FORMAT}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TZ)
    return moment.astimezone(CHINA_TZ)


def now() -> datetime:
    """The current moment, tz-aware in Asia/Shanghai (or the pinned `CYBERWEEK_NOW`)."""
    pinned = os.environ.get(ENV_VAR, "").strip()
    if pinned:
        return parse_now(pinned)
    return datetime.now(CHINA_TZ)


def today() -> date:
    """Today's date in China (or the pinned `CYBERWEEK_NOW`'s date)."""
    return now().date()
