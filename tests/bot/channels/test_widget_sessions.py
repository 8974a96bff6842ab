"""Widget session tokens (bot/channels/widget_sessions.py): only the server's own, for that
session id, unexpired, verify; nothing a client sends makes the check raise."""

from __future__ import annotations

import logging
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.widget_sessions import (
    CLOCK_SKEW_S,
    MIN_SECRET_CHARS,
    SECRET_ENV,
    SESSION_TOKEN_TTL_S,
    SecretTooShort,
    SessionSigner,
    signer_from_env,
    valid_session_id,
)

NOW = 1_725_933_600.0  # 2024-09-10 10:00 +08:00
FUZZ = settings(max_examples=300, deadline=None, database=None)


@pytest.fixture()
def signer() -> SessionSigner:
    return SessionSigner(secrets.token_bytes(32))


def test_an_issued_session_verifies(signer: SessionSigner) -> None:
    session_id, token = signer.issue(NOW)
    assert valid_session_id(session_id) and len(session_id) == 32
    assert signer.verify(session_id, token, NOW)
    assert signer.verify(session_id, token, NOW + SESSION_TOKEN_TTL_S)  # the last second
    assert signer.issue(NOW)[0] != session_id  # never the same id twice


def test_the_token_is_bound_to_its_session_id(signer: SessionSigner) -> None:
    session_id, token = signer.issue(NOW)
    other, _ = signer.issue(NOW)
    assert not signer.verify(other, token, NOW)
    tampered = session_id[:-1] + ("0" if session_id[-1] != "0" else "1")
    assert not signer.verify(tampered, token, NOW)


def test_a_tampered_issue_time_is_refused(signer: SessionSigner) -> None:
    """Moving the issue time forward would extend an expired token: the MAC covers it."""
    session_id, token = signer.issue(NOW - SESSION_TOKEN_TTL_S - 10)
    issued, mac = token.split(".")
    assert not signer.verify(session_id, token, NOW)
    assert not signer.verify(session_id, f"{int(issued) + 3600}.{mac}", NOW)
    assert not signer.verify(session_id, f"{int(NOW)}.{mac}", NOW)


def test_a_tampered_mac_is_refused(signer: SessionSigner) -> None:
    session_id, token = signer.issue(NOW)
    issued, mac = token.split(".")
    flipped = mac[:10] + ("a" if mac[10] != "a" else "b") + mac[11:]
    assert not signer.verify(session_id, f"{issued}.{flipped}", NOW)
    assert not signer.verify(session_id, f"{issued}.{mac.upper()}", NOW)
    assert not signer.verify(session_id, issued, NOW)
    assert not signer.verify(session_id, "", NOW)
    assert not signer.verify(session_id, None, NOW)


def test_an_expired_token_is_refused(signer: SessionSigner) -> None:
    session_id, token = signer.issue(NOW)
    assert not signer.verify(session_id, token, NOW + SESSION_TOKEN_TTL_S + 1)


def test_a_token_from_the_future_is_refused_beyond_the_clock_skew(signer: SessionSigner) -> None:
    session_id = signer.issue(NOW)[0]
    assert signer.verify(session_id, signer.sign(session_id, int(NOW + CLOCK_SKEW_S)), NOW)
    assert not signer.verify(session_id, signer.sign(session_id, int(NOW + CLOCK_SKEW_S + 1)), NOW)


def test_another_keys_token_is_refused(signer: SessionSigner) -> None:
    session_id, token = SessionSigner(secrets.token_bytes(32)).issue(NOW)
    assert not signer.verify(session_id, token, NOW)


def test_instances_sharing_the_secret_accept_each_others_sessions() -> None:
    env = {SECRET_ENV: "x" * MIN_SECRET_CHARS}
    session_id, token = signer_from_env(env).issue(NOW)
    assert signer_from_env(env).verify(session_id, token, NOW)
    other = {SECRET_ENV: "y" * MIN_SECRET_CHARS}
    assert not signer_from_env(other).verify(session_id, token, NOW)


def test_without_a_secret_each_process_has_its_own_key_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        first, second = signer_from_env({}), signer_from_env({SECRET_ENV: "  "})
    assert SECRET_ENV in caplog.text
    session_id, token = first.issue(NOW)
    assert first.verify(session_id, token, NOW)
    assert not second.verify(session_id, token, NOW)


def test_a_short_secret_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SecretTooShort, match=str(MIN_SECRET_CHARS)):
        signer_from_env({SECRET_ENV: "x" * (MIN_SECRET_CHARS - 1)})
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(SecretTooShort):
        signer_from_env()


hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=200),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    st.from_regex(r"\d{1,12}\.[0-9a-f]{64}", fullmatch=True),  # shaped like a token
)


@FUZZ
@given(session_id=hostile, token=hostile)
def test_random_input_never_raises_and_never_verifies(session_id: object, token: object) -> None:
    signer = SessionSigner(b"k" * 32)
    assert signer.verify(session_id, token, NOW) is False


@FUZZ
@given(
    session_id=st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True), issued=st.integers(0, 10**12)
)
def test_a_forged_token_for_a_chosen_id_never_verifies(session_id: str, issued: int) -> None:
    """What a client can make without the key: any id, any time, a MAC of its own."""
    signer = SessionSigner(b"k" * 32)
    forged = SessionSigner(b"guess" * 7).sign(session_id, issued)
    assert not signer.verify(session_id, forged, float(issued))
