"""Console logins: lock-out, throttling, sessions that expire, CSRF tokens and roles.

Sessions and login attempts are rows in SQL (bot.db.desk), so every instance of the assistant
sees the same logins and the same lock-outs. The session cookie carries a random token; the
database keeps only its SHA-256, so a leaked database opens no session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from bot.db.desk import DeskStore, SessionInfo, StaffInfo
from bot.db.desk.store import utc_now
from bot.desk.accounts import verify_login

SESSION_LIFETIME: Final = dt.timedelta(hours=12)  # one shift at the desk
SESSION_IDLE: Final = dt.timedelta(minutes=30)
# A name is locked after this many failures in the window (a correct password does not help
# until the window has passed); a client address is throttled after the second number.
LOCKOUT_FAILURES: Final = 5
CLIENT_FAILURES: Final = 20
FAILURE_WINDOW: Final = dt.timedelta(minutes=15)

PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "agent": frozenset({"queue", "reply"}),
    "editor": frozenset({"queue", "reply", "edit_facts", "edit_canned"}),
    "admin": frozenset({"queue", "reply", "edit_facts", "edit_canned", "manage_staff"}),
}


class LoginRefused(Exception):
    """Why a login failed: "credentials", "locked" or "throttled" (the latter two say when
    to try again). The same words whether or not the name exists."""

    def __init__(self, reason: str, retry_after_s: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Login:
    """A new session: `token` goes into the HttpOnly cookie, `csrf_token` into the page."""

    token: str
    csrf_token: str
    staff: StaffInfo


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def allowed(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


def csrf_ok(session: SessionInfo, presented: str | None) -> bool:
    """The token the page sent back matches the session's (compared in constant time)."""
    return bool(presented) and hmac.compare_digest(session.csrf_token, presented or "")


class Authenticator:
    def __init__(self, store: DeskStore, now: Callable[[], dt.datetime] = utc_now) -> None:
        self._store = store
        self._now = now

    def login(self, username: str, password: str, client: str) -> Login:
        """A new session for the right password, unless the name is locked or the client
        throttled; every attempt is recorded."""
        since = self._now() - FAILURE_WINDOW
        retry = int(FAILURE_WINDOW.total_seconds())
        if self._store.failed_logins_since(since, client=client) >= CLIENT_FAILURES:
            raise LoginRefused("throttled", retry)
        if self._store.failed_logins_since(since, username=username) >= LOCKOUT_FAILURES:
            self._store.record_login_attempt(username, client, succeeded=False)
            raise LoginRefused("locked", retry)
        staff = verify_login(self._store, username, password)
        self._store.record_login_attempt(username, client, succeeded=staff is not None)
        if staff is None:
            raise LoginRefused("credentials")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._store.add_session(token_hash(token), staff.id, csrf)
        return Login(token, csrf, staff)

    def session(self, token: str | None) -> SessionInfo | None:
        """The live session of `token`; an expired one is ended and None returned."""
        if not token or len(token) > 256:
            return None
        hashed = token_hash(token)
        found = self._store.session(hashed)
        if found is None:
            return None
        now = self._now()
        if now - found.created_at > SESSION_LIFETIME or now - found.last_seen_at > SESSION_IDLE:
            self._store.end_session(hashed, found.staff.id, "expired")
            return None
        self._store.touch_session(hashed)
        return found

    def logout(self, token: str | None) -> None:
        if token:
            hashed = token_hash(token)
            found = self._store.session(hashed)
            self._store.end_session(hashed, found.staff.id if found else None, "logout")
