"""`cyberweek staff`: accounts made from the command line, the password never in argv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot import paths
from bot.db.desk import DeskStore


def cyberweek(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=paths.REPO_ROOT,
        timeout=120,
    )


def test_add_list_disable_and_change_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    added = cyberweek(
        "staff",
        "add",
        "ann",
        "--role",
        "admin",
        "--display-name",
        "Ann Li",
        "--url",
        url,
        stdin="correct horse battery\n",
    )
    assert added.returncode == 0, added.stderr
    assert "added ann (admin" in added.stdout
    listed = cyberweek("staff", "list", "--url", url)
    assert "ann" in listed.stdout and "admin" in listed.stdout and "active" in listed.stdout
    again = cyberweek("staff", "add", "ann", "--role", "agent", "--url", url, stdin="x" * 20 + "\n")
    assert again.returncode == 1 and "exists already" in again.stderr
    changed = cyberweek("staff", "password", "ann", "--url", url, stdin="another long secret\n")
    assert changed.returncode == 0, changed.stderr
    assert cyberweek("staff", "disable", "ann", "--url", url).returncode == 0
    store = DeskStore(url)
    try:
        assert store.password_hash("ann") is None  # disabled
        actions = [entry.action for entry in store.audit_log()]
        assert actions[:3] == ["staff.disable", "staff.password", "staff.add"]
    finally:
        store.dispose()


def test_a_password_option_does_not_exist_and_a_short_password_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    on_command_line = cyberweek(
        "staff",
        "add",
        "bo",
        "--role",
        "agent",
        "--password",
        "correct horse battery",
        "--url",
        url,
    )
    assert on_command_line.returncode == 2 and "unrecognized arguments" in on_command_line.stderr
    short = cyberweek("staff", "add", "bo", "--role", "agent", "--url", url, stdin="short\n")
    assert short.returncode == 1 and "12 characters" in short.stderr
    assert "no staff accounts yet" in cyberweek("staff", "list", "--url", url).stdout
