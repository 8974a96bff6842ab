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

# A conversation's session ends after this many visitor messages, as Rasa ends one after
# domain.yml's session_expiration_time (60) idle minutes (ops/rasa_entry.py
# `install_session_turn_bound`). Each turn loads the session's events from the tracker store,
# featurizes them and sends them whole to the action server: a script that never pauses made
# every turn of its conversation slower and larger (a turn took 0.1 s at the start of a session
# and 0.4 s after 100 messages; 10,000 turns took 4.6 s to load, with a 5.6 MB tracker;
# docs/security.md). A visitor asks a few questions, rarely dozens, in an hour; slots carry
# over into the new session, and the stored transcript keeps every session.
MAX_SESSION_TURNS = 50

_DAY_OFFSET = re.compile(r"[+-]?[0-9]{1,3}")  # ASCII digits: int() of "²" would raise


def day_offset_days(value: Any) -> int | None:
    """A `day_offset` entity ("+1") as days; None unless an integer within ±MAX_DAY_OFFSET
    (a typed /inform{"day_offset": "999999999"} overflowed the date arithmetic)."""
    text = str(value).strip()
    if not _DAY_OFFSET.fullmatch(text):
        return None
    days = int(text)
    return days if abs(days) <= MAX_DAY_OFFSET else None


# -- Rate limits (docs/security.md, "Rate limits"; bot/rate_limits.py counts them) ------------
# Written in the `limits` library's notation ("N per M seconds"), each counted in a moving
# window; an operator overrides one with the environment variable next to it, and
# CYBERWEEK_RATE_LIMITS=off lifts them all (the e2e evaluation, the bench and the tests' shared
# assistant talk faster than any person). Over a limit a visitor is told to slow down
# (bot/unavailable.py), and the message never reaches Rasa.
RATE_LIMITS_SWITCH_ENV = "CYBERWEEK_RATE_LIMITS"

# One conversation (a REST `sender`, a widget socket, a WeChat OpenID): a burst of five, then
# one a second. Nobody types faster; a script that does is held to what a person could send.
RATE_CONVERSATION = "5 per 5 seconds"
# Messages and socket.io events of one client address. One instance answers 12–14 turns a
# second on this 2-core machine; an address allowed 20 took all of them, and another visitor's
# p95 went from 0.16 to 0.74 s (docs/decisions.md, "Flood from one address"). Three a second is
# a quarter of an instance — still some 60 visitors behind one venue Wi-Fi address asking every
# 20 s; with more instances raise it (CYBERWEEK_LIMIT_PER_IP).
RATE_PER_IP = "3 per second"
# A widget socket's `session_request` and `feedback` (one per connect or "New chat", one per 👍/👎).
RATE_SOCKET_CONTROL = "20 per minute"
# New socket.io connections of one address (a page load opens one; fresh sockets would otherwise
# get fresh per-socket budgets).
RATE_CONNECTIONS_PER_IP = "120 per minute"
# Staff console sign-in attempts of one address, counted before the database and the password
# hash; failures are also counted in SQL per name and per address (bot/desk/auth.py).
RATE_LOGIN_PER_IP = "10 per minute"

# A refused REST request is answered after a pause of up to this long: a script that asks
# again the moment it is refused would otherwise cost the event loop more in 429s than its
# refused turns would have (docs/decisions.md, "Flood from one address"). At most
# MAX_HELD_REFUSALS wait at once, so that holding them cannot use up the server's connections.
REFUSAL_HOLD_S = 1.0
MAX_HELD_REFUSALS = 64

# rule name -> (default, the environment variable that overrides it)
RATE_LIMITS: dict[str, tuple[str, str]] = {
    "conversation": (RATE_CONVERSATION, "CYBERWEEK_LIMIT_CONVERSATION"),
    "ip": (RATE_PER_IP, "CYBERWEEK_LIMIT_PER_IP"),
    "socket_control": (RATE_SOCKET_CONTROL, "CYBERWEEK_LIMIT_SOCKET_CONTROL"),
    "connections_ip": (RATE_CONNECTIONS_PER_IP, "CYBERWEEK_LIMIT_CONNECTIONS_PER_IP"),
    "login_ip": (RATE_LOGIN_PER_IP, "CYBERWEEK_LIMIT_LOGIN_PER_IP"),
}
