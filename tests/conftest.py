"""Shared fixtures: a seeded throw-away database, the fixed clock, the trained model, servers.

The model is trained once per run by `make test` (models/cyberweek.tar.gz) and shared by every
test that needs it; tests never train.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from bot import paths
from bot.db.desk import DeskStore, StaffInfo
from bot.desk.accounts import NewAccount, add_account
from bot.limits import RATE_LIMITS_SWITCH_ENV
from ops import harness
from ops.harness import DEMO_NOW

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="session")
def seeded_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real seed, loaded into a database of the test run's own."""
    from bot.db.seed import load_seed

    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'event.db'}"
    load_seed(paths.SEED_DIR, url=url)
    return url


@pytest.fixture(scope="session")
def server_env(seeded_db_url: str) -> dict[str, str]:
    # rate limits off: the tests talk faster than any visitor (their own tests are in-process,
    # tests/bot/test_rate_limits.py, tests/bot/channels/test_rate_limited_channels.py)
    return {
        **os.environ,
        "DATABASE_URL": seeded_db_url,
        "CYBERWEEK_NOW": DEMO_NOW,
        RATE_LIMITS_SWITCH_ENV: "off",
    }


@pytest.fixture(scope="session")
def trained_model() -> Path:
    if not paths.MODEL_PATH.exists():
        pytest.fail(f"{paths.MODEL_PATH} is missing: run the suite with `make test`, which trains")
    return paths.MODEL_PATH


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the shared servers write their output (`actions.log`, `rasa.log`): the fuzz
    tests read it for tracebacks (tests/bot/channels/test_fuzz_live.py)."""
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def action_server(server_env: dict[str, str], server_logs: Path) -> Iterator[str]:
    """A real rasa-sdk action server on a free loopback port; yields its webhook URL."""
    port = harness.free_port()
    with open(server_logs / "actions.log", "ab") as log:
        with harness.action_server(port, server_env).running(log):
            yield harness.action_webhook(port)


@pytest.fixture(scope="session")
def endpoints_file(action_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test run's action server, and conversations in a SQLite file of the run's own
    through the tracker store production uses (it tells the help desk about paused ones)."""
    return endpoints_with_own_store(action_server, tmp_path_factory.mktemp("endpoints"))


def endpoints_with_own_store(action_url: str, folder: Path) -> Path:
    """endpoints.yml as production has it, but calling `action_url` and keeping conversations
    in `folder`/conversations.db."""
    settings = yaml.safe_load(paths.ENDPOINTS_FILE.read_text(encoding="utf-8"))
    settings["action_endpoint"]["url"] = action_url
    settings["tracker_store"]["db"] = str(folder / "conversations.db")
    path = folder / "endpoints.yml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def desk_store(seeded_db_url: str) -> Iterator[DeskStore]:
    """The desk's tables in the run's database (the servers' DATABASE_URL)."""
    store = DeskStore(seeded_db_url)
    store.ensure_schema()
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def staff_password() -> str:
    return "correct horse battery staple"


@pytest.fixture(scope="session")
def staff_accounts(desk_store: DeskStore, staff_password: str) -> dict[str, StaffInfo]:
    """Three accounts, one per role (the password is `staff_password`)."""
    accounts = {}
    for username, display, role in (
        ("wang", "小王", "agent"),
        ("li", "Li", "agent"),
        ("zhao", "Zhao", "editor"),
    ):
        account = NewAccount(username, display, role)
        accounts[username] = add_account(desk_store, account, staff_password)
    return accounts


@pytest.fixture(scope="session")
def rasa_server(
    trained_model: Path, endpoints_file: Path, server_env: dict[str, str], server_logs: Path
) -> Iterator[str]:
    """`rasa run` with the REST channel; yields the webhook URL."""
    port = harness.free_port()
    with open(server_logs / "rasa.log", "ab") as log:
        with harness.rasa_server(trained_model, endpoints_file, port, server_env).running(log):
            yield f"http://127.0.0.1:{port}/webhooks/rest/webhook"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A headless Debian Chromium per test module: Playwright's sync API keeps an event loop
    running in this thread while it is open, and later tests call asyncio.run()."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_FLAGS

    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/ensure-chromium (as root; `make test` runs it "
            "first), or set CYBERWEEK_CHROMIUM to a Chromium binary"
        )
    with sync_playwright() as playwright:
        # Playwright starts it with a fresh, throw-away profile (--user-data-dir) every time.
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


@pytest.fixture
def dialogs() -> list[str]:
    """Every alert/confirm/prompt a page opened (none may ever open)."""
    return []


@pytest.fixture(scope="session")
def demo_url(rasa_server: str) -> str:
    return rasa_server.replace("/webhooks/rest/webhook", "/webhooks/socketio/demo/")
