"""China Standard Time: the one time zone of every date and time in the event database.

The database stores *naive* local dates and times (what the organisers publish: "9月8日上午",
"11 Sept"). They are always China Standard Time (UTC+08:00, no daylight saving), so a naive
value is unambiguous; the zone matters only where code compares them with "now".
"""

from __future__ import annotations

from datetime import date, datetime

from bot.clock import CHINA_TZ


def china_date(moment: datetime) -> date:
    """The calendar day in China of any moment; naive datetimes are taken as China time.

    A visitor's "today" is China's today: 23:30 UTC on 9 Sept is already 10 Sept in Nansha.
    """
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(CHINA_TZ).date()
