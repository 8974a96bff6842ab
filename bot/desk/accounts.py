"""Staff accounts: names, roles and passwords (argon2id, through argon2-cffi).

No default account and no default password exist: the first one is made with
`cyberweek staff add NAME --role admin`. A password is never accepted on a command line,
where it would end up in shell history and in `ps` output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.db.desk import DeskStore, StaffInfo
from bot.db.desk.models import ROLES, USERNAME_LEN

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # argon2 takes any length; a megabyte "password" is an attack
USERNAME = re.compile(rf"^[a-z][a-z0-9._-]{{1,{USERNAME_LEN - 1}}}$")

# argon2-cffi's defaults follow RFC 9106's second recommended option (64 MiB, 3 passes).
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A name, role or password that cannot be used; the message says why."""


@dataclass(frozen=True)
class NewAccount:
    username: str
    display_name: str
    role: str


def check_username(username: str) -> str:
    if not USERNAME.match(username):
        raise AccountError(
            "a staff name is 2-64 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter"
        )
    return username


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    return role


def check_password(password: str, username: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"the password may have at most {MAX_PASSWORD_CHARS} characters")
    if username.lower() in password.lower():
        raise AccountError("the password must not contain the staff name")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_account(store: DeskStore, account: NewAccount, password: str) -> StaffInfo:
    """Validates everything, then stores the account with the password's argon2id hash."""
    username = check_username(account.username)
    role = check_role(account.role)
    display_name = account.display_name.strip() or username
    if len(display_name) > USERNAME_LEN:
        raise AccountError(f"the display name may have at most {USERNAME_LEN} characters")
    return store.add_staff(
        username, display_name, role, hash_password(check_password(password, username))
    )


def verify_login(store: DeskStore, username: str, password: str) -> StaffInfo | None:
    """The account when the password is right and the account enabled, else None.

    An unknown name costs one hash too, so response times do not tell which names exist.
    A hash made with weaker parameters than today's is upgraded on a successful login.
    """
    stored = store.password_hash(username) if USERNAME.match(username) else None
    if stored is None or len(password) > MAX_PASSWORD_CHARS:
        _hasher.hash("timing equaliser")
        return None
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(stored):
        store.set_password_hash(username, _hasher.hash(password))
    return store.staff(username)
