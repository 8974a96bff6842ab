"""Widget session ids issued by the server and signed, so only their holder can use them.

The widget used to name its own session id, and the server joined whatever id a socket asked
for: anyone who learnt an id received that visitor's replies and could write into their chat.
Now the server issues the id (`secrets`) with a token, HMAC-SHA256 over the id and its issue
time; a socket that presents a session id without its valid, unexpired token gets a fresh
session instead (bot/channels/webchat.py).

The key is CYBERWEEK_SESSION_SECRET. Without it a random key is made per process (a laptop's
`make run`), with a warning: several instances would then refuse each other's tokens, so the
production profile (ops/prod.py) sets one shared secret.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

logger = logging.getLogger(__name__)

SECRET_ENV: Final = "CYBERWEEK_SESSION_SECRET"
MIN_SECRET_CHARS: Final = 32
# A token is good for one day from its issue (an event day's visit); then a new session.
SESSION_TOKEN_TTL_S: Final = 24 * 3600
# Instances' clocks may differ a little: a token "issued" this far ahead is still taken.
CLOCK_SKEW_S: Final = 60
# A session id as Rasa's tracker keeps it (after `web:`); the server issues 32 hex digits.
SESSION_ID: Final = re.compile(r"[A-Za-z0-9_-]{8,64}")
TOKEN: Final = re.compile(r"(\d{1,12})\.([0-9a-f]{64})")
# Separates this use of the key from any other (a token is never valid as something else).
PURPOSE: Final = b"cyberweek widget session v1"


class SecretTooShort(ValueError):
    pass


def valid_session_id(value: Any) -> bool:
    return isinstance(value, str) and SESSION_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class SessionSigner:
    key: bytes = field(repr=False)
    ttl_s: float = SESSION_TOKEN_TTL_S

    def issue(self, now: float) -> tuple[str, str]:
        """A fresh session id and its token."""
        session_id = secrets.token_hex(16)
        return session_id, self.sign(session_id, int(now))

    def sign(self, session_id: str, issued_at: int) -> str:
        return f"{issued_at}.{self._mac(session_id, issued_at)}"

    def verify(self, session_id: Any, token: Any, now: float) -> bool:
        """Whether `token` is this key's, for this id, and not expired. Never raises."""
        if not valid_session_id(session_id) or not isinstance(token, str):
            return False
        match = TOKEN.fullmatch(token)
        if match is None:
            return False
        issued_at = int(match.group(1))
        if not now - self.ttl_s <= issued_at <= now + CLOCK_SKEW_S:
            return False
        return hmac.compare_digest(match.group(2), self._mac(session_id, issued_at))

    def _mac(self, session_id: str, issued_at: int) -> str:
        message = b"\n".join([PURPOSE, session_id.encode(), str(issued_at).encode()])
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()


def signer_from_env(env: Mapping[str, str] | None = None) -> SessionSigner:
    """The signer of CYBERWEEK_SESSION_SECRET, or of a random key of this process (warned)."""
    secret = (os.environ if env is None else env).get(SECRET_ENV, "").strip()
    if not secret:
        logger.warning(
            "%s is not set: widget sessions are signed with a random key of this process, so "
            "they end when it restarts and other instances refuse them (set one shared secret "
            "of at least %d characters; the production profile does)",
            SECRET_ENV,
            MIN_SECRET_CHARS,
        )
        return SessionSigner(secrets.token_bytes(32))
    if len(secret) < MIN_SECRET_CHARS:
        raise SecretTooShort(
            f"{SECRET_ENV} has {len(secret)} characters; use at least {MIN_SECRET_CHARS} "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    return SessionSigner(secret.encode())
