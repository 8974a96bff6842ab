"""How much a visitor may send: the one definition of each input bound (issue #15).

Imported by the channels (bot/channels/inbound.py), the actions (a day offset) and the Rasa
entry point (ops/rasa_entry.py: the request body cap); docs/security.md says why each number.
Constants and one check with the standard library only, so importing this module costs
nothing before Rasa starts.
"""

from __future__ import annotations

import re
from typing import Any

# Every HTTP body Rasa's server accepts (REST, WeChat, the desk console, socket.io's polling
# POSTs) and every socket.io frame. A question is a few hundred bytes and a WeChat push under
# 2 KiB; 64 KiB leaves room for both and stops the 20 MB `metadata` bodies of the issue.
MAX_BODY_BYTES = 64 * 1024

# A visitor's message. The NLU reads the first 500 characters (TextNormalizer max_length) after
# keeping the question of a long paste (bot/nlu/focus.py); 2,000 leaves a pasted paragraph its
# question while bounding that work. Longer: 400 on REST (a developer API), cut on the widget and
# WeChat (a visitor still gets an answer).
MAX_MESSAGE_CHARS = 2_000

# A visitor-typed /intent{...} payload (bot/channels/inbound.py): an entity value is a database
# key (docs/data-keys.md, the longest about 30 characters), an ISO date or a year.
MAX_ENTITY_CHARS = 64
# "the next day" is +1; a month either way covers every real follow-up and keeps date arithmetic
# far from date.max (/inform{"day_offset": "999999999"} raised OverflowError in an action).
MAX_DAY_OFFSET = 31

_DAY_OFFSET = re.compile(r"[+-]?[0-9]{1,3}")  # ASCII digits: int() of "²" would raise


def day_offset_days(value: Any) -> int | None:
    """A `day_offset` entity ("+1") as days; None unless an integer within ±MAX_DAY_OFFSET
    (a typed /inform{"day_offset": "999999999"} overflowed the date arithmetic)."""
    text = str(value).strip()
    if not _DAY_OFFSET.fullmatch(text):
        return None
    days = int(text)
    return days if abs(days) <= MAX_DAY_OFFSET else None
