"""`cyberweek staff`: help-desk accounts, made and managed by an operator on the server.

The password is asked for twice on a terminal, or read as one line from standard input when
that is not a terminal (`printf '%s\\n' "$PW" | cyberweek staff add ...`), never taken from
the command line.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from bot.db.desk import DeskError, DeskStore
from bot.db.desk.models import ROLES


def read_password(stdin: TextIO, prompt: str = "Password: ") -> str:
    if not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass(prompt)
    if first != getpass.getpass("Repeat the password: "):
        raise ValueError("the two passwords differ")
    return first


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    add = commands.add_parser(
        "add",
        help="create a staff account (the password is asked for, never given as an argument)",
    )
    add.add_argument("name", help="login name: lower-case letters, digits, . _ -")
    add.add_argument(
        "--role",
        required=True,
        choices=ROLES,
        help="agent: answers visitors; editor: also edits facts and canned replies; "
        "admin: also manages staff",
    )
    add.add_argument("--display-name", default="", help="shown to visitors (default: NAME)")
    add.set_defaults(handler=_add)
    listing = commands.add_parser("list", help="the staff accounts")
    listing.set_defaults(handler=_list)
    for name, disabled, text in (
        ("disable", True, "stop an account from logging in (its history stays)"),
        ("enable", False, "let a disabled account log in again"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("name")
        sub.set_defaults(handler=_set_disabled, disabled=disabled)
    password = commands.add_parser("password", help="set a new password for an account")
    password.add_argument("name")
    password.set_defaults(handler=_password)
    for sub in commands.choices.values():
        sub.add_argument("--url", help="SQLAlchemy URL (default: $DATABASE_URL or var/)")


def _store(args: argparse.Namespace) -> DeskStore:
    store = DeskStore(args.url)
    store.ensure_schema()
    return store


def _add(args: argparse.Namespace) -> int:
    from bot.desk.accounts import AccountError, NewAccount, add_account, check_username

    try:
        check_username(args.name)  # before asking for a password that would be wasted
        password = read_password(sys.stdin)
        staff = add_account(
            _store(args), NewAccount(args.name, args.display_name, args.role), password
        )
    except (AccountError, DeskError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"added {staff.username} ({staff.role}, shown as {staff.display_name!r})")
    return 0


def _list(args: argparse.Namespace) -> int:
    staff = _store(args).all_staff()
    if not staff:
        print("no staff accounts yet: cyberweek staff add NAME --role admin")
    for member in staff:
        state = "disabled" if member.disabled else "active"
        print(f"{member.username:20} {member.role:7} {state:8} {member.display_name}")
    return 0


def _set_disabled(args: argparse.Namespace) -> int:
    try:
        _store(args).set_disabled(args.name, args.disabled)
    except DeskError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.name}: {'disabled' if args.disabled else 'enabled'}")
    return 0


def _password(args: argparse.Namespace) -> int:
    from bot.desk.accounts import AccountError, check_password, hash_password

    store = _store(args)
    try:
        if store.staff(args.name) is None:
            raise DeskError(f"no staff account named {args.name!r}")
        password = check_password(read_password(sys.stdin, "New password: "), args.name)
        store.set_password_hash(args.name, hash_password(password))
    except (AccountError, DeskError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.name}: password changed")
    return 0
