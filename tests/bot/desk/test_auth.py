"""bot.desk.auth: lock-out, throttling, expiring sessions, CSRF and roles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.db.desk import DeskStore
from bot.desk.accounts import NewAccount, add_account
from bot.desk.auth import (
    CLIENT_FAILURES,
    LOCKOUT_FAILURES,
    SESSION_IDLE,
    SESSION_LIFETIME,
    Authenticator,
    LoginRefused,
    allowed,
    csrf_ok,
)

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2024, 9, 10, 1, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture()
def auth(db_url: str, clock: Clock) -> Iterator[Authenticator]:
    store = DeskStore(db_url, now=clock)
    store.ensure_schema()
    add_account(store, NewAccount("ann", "Ann", "agent"), PASSWORD)
    yield Authenticator(store, now=clock)
    store.dispose()


def refused(auth: Authenticator, username: str, password: str, client: str = "10.0.0.1") -> str:
    with pytest.raises(LoginRefused) as error:
        auth.login(username, password, client)
    return error.value.reason


def test_a_login_opens_a_session_whose_token_is_stored_only_hashed(
    auth: Authenticator, db_url: str
) -> None:
    login = auth.login("ann", PASSWORD, "10.0.0.1")
    session = auth.session(login.token)
    assert session is not None and session.staff.username == "ann"
    assert csrf_ok(session, login.csrf_token)
    assert not csrf_ok(session, None) and not csrf_ok(session, login.csrf_token + "x")
    engine = create_engine(db_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM desk_sessions")).scalars().all()
    engine.dispose()
    assert stored and login.token not in stored
    assert auth.session(login.token + "x") is None and auth.session(None) is None


def test_a_name_is_locked_after_repeated_failures_even_for_the_right_password(
    auth: Authenticator, clock: Clock
) -> None:
    for _ in range(LOCKOUT_FAILURES):
        assert refused(auth, "ann", "wrong password!!") == "credentials"
    assert refused(auth, "ann", PASSWORD) == "locked"
    assert refused(auth, "nobody", "wrong password!!") == "credentials"  # other names unaffected
    clock.advance(dt.timedelta(minutes=16))
    assert auth.login("ann", PASSWORD, "10.0.0.1").staff.username == "ann"


def test_an_unknown_name_locks_the_same_way_so_names_cannot_be_probed(auth: Authenticator) -> None:
    for _ in range(LOCKOUT_FAILURES):
        assert refused(auth, "ghost", "whatever it is!") == "credentials"
    assert refused(auth, "ghost", "whatever it is!") == "locked"


def test_a_client_guessing_many_names_is_throttled(auth: Authenticator) -> None:
    for number in range(CLIENT_FAILURES):
        refused(auth, f"user{number}", "wrong password!!", client="198.51.100.7")
    assert refused(auth, "ann", PASSWORD, client="198.51.100.7") == "throttled"
    assert auth.login("ann", PASSWORD, "10.0.0.2").staff.username == "ann"


def test_sessions_expire_when_idle_and_after_a_shift(auth: Authenticator, clock: Clock) -> None:
    idle = auth.login("ann", PASSWORD, "10.0.0.1")
    clock.advance(SESSION_IDLE - dt.timedelta(seconds=1))
    assert auth.session(idle.token) is not None
    clock.advance(SESSION_IDLE + dt.timedelta(seconds=1))
    assert auth.session(idle.token) is None
    assert auth.session(idle.token) is None  # ended, not only refused once
    busy = auth.login("ann", PASSWORD, "10.0.0.1")
    logged_in_at = clock.now
    while clock.now + SESSION_IDLE / 2 - logged_in_at <= SESSION_LIFETIME:
        clock.advance(SESSION_IDLE / 2)
        assert auth.session(busy.token) is not None, clock.now - logged_in_at
    clock.advance(SESSION_IDLE / 2)  # past the shift, though never idle
    assert auth.session(busy.token) is None


def test_logout_and_disabling_end_sessions(auth: Authenticator, db_url: str) -> None:
    first = auth.login("ann", PASSWORD, "10.0.0.1")
    auth.logout(first.token)
    assert auth.session(first.token) is None
    second = auth.login("ann", PASSWORD, "10.0.0.1")
    store = DeskStore(db_url)
    store.set_disabled("ann", True)
    store.dispose()
    assert auth.session(second.token) is None


def test_roles_grant_what_the_brief_says() -> None:
    assert allowed("agent", "reply") and not allowed("agent", "edit_facts")
    assert allowed("editor", "edit_facts") and not allowed("editor", "manage_staff")
    assert allowed("admin", "manage_staff")
    assert not allowed("visitor", "queue")
