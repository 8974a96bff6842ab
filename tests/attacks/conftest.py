"""The assistant as it faces the internet, for replaying the attacks of issue #15.

Unlike the run's shared assistant (tests/conftest.py: rate limits off, no WeChat), this one runs
with the shipped channels (credentials.yml: REST, the widget, WeChat, the staff console), rate
limits on, WeChat configured from the environment as an operator configures it (its secrets in
the environment the launcher is given) against a fake customer-service API, no HTTP API
(`--enable-api` is off in production), and the address nginx gives (X-Real-IP) trusted, so that
each test can speak as a client of its own address.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.channels.wechat.simulator import WeChatSimulator, running_fake_api
from bot.limits import RATE_LIMITS_SWITCH_ENV
from ops import harness
from tests.bot.channels.fuzz import traceback_lines
from tests.bot.channels.wechat.stand_in import ACCOUNT as STAND_IN_ACCOUNT
from tests.conftest import endpoints_with_own_store

# the in-process WeChat tests' account, with the app secret the fake API checks
ACCOUNT = dataclasses.replace(STAND_IN_ACCOUNT, app_secret="attack-test-app-secret")
SESSION_SECRET = "f3b1c9e07a5d42e8b6c1d0a9f4e7b2c5d8a1e6f0"


@dataclass
class ExposedAssistant:
    base_url: str
    services: list[harness.Service]
    conversations_db: Path
    logs: Path

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/webhooks/rest/webhook"

    def wechat(self) -> WeChatSimulator:
        return WeChatSimulator(f"{self.base_url}/webhooks/wechat/webhook", ACCOUNT, "plain")

    def pid(self, name: str) -> int:
        pid = next(service.pid for service in self.services if service.name == name)
        assert pid is not None, f"{name} is not running"
        return pid

    def user_texts(self, conversation: str) -> list[str]:
        """What reached the bot from `conversation`, from the SQL tracker store."""
        return [event["text"] for event in self.events(conversation, "user")]

    def events(self, conversation: str, type_name: str) -> list[dict[str, Any]]:
        with sqlite3.connect(f"file:{self.conversations_db}?mode=ro", uri=True) as connection:
            rows = connection.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = ? ORDER BY id",
                (conversation, type_name),
            ).fetchall()
        return [json.loads(data) for (data,) in rows]

    def conversations(self) -> set[str]:
        with sqlite3.connect(f"file:{self.conversations_db}?mode=ro", uri=True) as connection:
            return {sender for (sender,) in connection.execute("SELECT sender_id FROM events")}

    def log_size(self) -> int:
        return self.logs.stat().st_size

    def problems_since(self, offset: int) -> list[str]:
        with self.logs.open("rb") as log:
            log.seek(offset)
            return traceback_lines(log.read().decode("utf-8", "replace"))


def exposed_env(base: dict[str, str], fake_api_url: str) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith("WECHAT_")}
    env.pop(RATE_LIMITS_SWITCH_ENV, None)  # on, as in production
    env.pop("REDIS_URL", None)
    return {
        **env,
        "WECHAT_TOKEN": ACCOUNT.token,
        "WECHAT_APP_ID": ACCOUNT.app_id,
        "WECHAT_APP_SECRET": ACCOUNT.app_secret,
        "WECHAT_AES_KEY": ACCOUNT.aes_key,
        "WECHAT_MODE": "plain",  # the mode whose signature covers no body: the replay's target
        "WECHAT_API_BASE_URL": fake_api_url,
        "CYBERWEEK_SESSION_SECRET": SESSION_SECRET,
        "SANIC_REAL_IP_HEADER": "X-Real-IP",  # as behind the profile's nginx
    }


@pytest.fixture(scope="session")
def exposed(
    trained_model: Path, server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExposedAssistant]:
    folder = tmp_path_factory.mktemp("exposed")
    endpoints = endpoints_with_own_store(harness.action_webhook(0), folder)
    with running_fake_api(ACCOUNT.app_id, ACCOUNT.app_secret) as fake_api:
        env = exposed_env(dict(server_env), fake_api.base_url)
        log = folder / "servers.log"
        with harness.running_assistant(
            env, trained_model, endpoints=endpoints, log=log
        ) as assistant:
            yield ExposedAssistant(
                f"http://127.0.0.1:{assistant.rasa_port}",
                assistant.services,
                folder / "conversations.db",
                log,
            )


@pytest.fixture()
def no_traceback(exposed: ExposedAssistant) -> Iterator[None]:
    """The servers' log free of tracebacks and ERROR lines for what the test sent."""
    offset = exposed.log_size()
    yield
    assert exposed.problems_since(offset) == []
