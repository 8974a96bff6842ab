"""bot.desk.accounts: validated staff accounts with argon2id password hashes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from bot.db.desk import DeskStore
from bot.desk.accounts import AccountError, NewAccount, add_account, verify_login

PASSWORD = "correct horse battery"


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[DeskStore]:
    desk = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}")
    desk.ensure_schema()
    yield desk
    desk.dispose()


def test_the_password_is_stored_only_as_an_argon2id_hash(store: DeskStore) -> None:
    staff = add_account(store, NewAccount("ann", "Ann Li", "agent"), PASSWORD)
    stored = store.password_hash("ann")
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert (staff.username, staff.display_name, staff.role) == ("ann", "Ann Li", "agent")


def test_login_needs_the_right_password_and_an_enabled_account(store: DeskStore) -> None:
    add_account(store, NewAccount("ann", "", "editor"), PASSWORD)
    logged_in = verify_login(store, "ann", PASSWORD)
    assert logged_in is not None and logged_in.display_name == "ann"
    assert verify_login(store, "ann", PASSWORD + "!") is None
    assert verify_login(store, "nobody", PASSWORD) is None
    assert verify_login(store, "Robert'); DROP TABLE desk_staff;--", PASSWORD) is None
    assert verify_login(store, "ann", "x" * 100_000) is None
    store.set_disabled("ann", True)
    assert verify_login(store, "ann", PASSWORD) is None


@pytest.mark.parametrize(
    ("account", "password", "problem"),
    [
        (NewAccount("Ann", "", "agent"), PASSWORD, "staff name"),
        (NewAccount("a", "", "agent"), PASSWORD, "staff name"),
        (NewAccount("ann li", "", "agent"), PASSWORD, "staff name"),
        (NewAccount("ann", "", "root"), PASSWORD, "role"),
        (NewAccount("ann", "", "agent"), "short", "12 characters"),
        (NewAccount("ann", "", "agent"), "ann-password-123", "staff name"),
        (NewAccount("ann", "A" * 65, "agent"), PASSWORD, "display name"),
    ],
)
def test_bad_accounts_are_refused_with_a_reason(
    store: DeskStore, account: NewAccount, password: str, problem: str
) -> None:
    with pytest.raises(AccountError, match=problem):
        add_account(store, account, password)
    assert store.all_staff() == []


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_login(store: DeskStore) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    store.add_staff("ann", "Ann", "agent", weak.hash(PASSWORD))
    assert verify_login(store, "ann", PASSWORD) is not None
    upgraded = store.password_hash("ann")
    assert upgraded is not None and not PasswordHasher().check_needs_rehash(upgraded)
    assert verify_login(store, "ann", PASSWORD) is not None
