"""ops.action_entry: the action server on loopback, with only the environment it needs, and,
with a shared secret set, refusing any caller that does not send it (issue #15, item 6)."""

from __future__ import annotations

import itertools
import os
import sys
from typing import Any

import pytest
from rasa_sdk.endpoint import create_app
from sanic import Sanic

from ops import action_entry, harness
from ops.action_entry import (
    ACCESS_LOG_ENV,
    SECRET_ENV,
    SECRET_HEADER,
    SharedSecretPlugin,
    action_server_env,
)

SECRET = "k3Y-of-the-profile_0123456789abcd"
_app_numbers = itertools.count()

OPERATOR_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/root",
    "LC_ALL": "C.UTF-8",
    "DATABASE_URL": "postgresql://cyberweek:pw@127.0.0.1:5432/cyberweek",
    "CYBERWEEK_NOW": harness.DEMO_NOW,
    SECRET_ENV: SECRET,
    "WECHAT_TOKEN": "a" * 32,
    "WECHAT_APP_SECRET": "app-secret",
    "WECHAT_AES_KEY": "b" * 43,
    "CYBERWEEK_SESSION_SECRET": "widget-session-key",
    "POSTGRES_PASSWORD": "pw",
    "AWS_SECRET_ACCESS_KEY": "something the operator had in the shell",
    "SANIC_HOST": "0.0.0.0",
}


# -- environment -------------------------------------------------------------------------------


def test_the_action_server_gets_no_wechat_or_session_secret() -> None:
    env = action_server_env(OPERATOR_ENV)
    assert not [name for name in env if name.startswith("WECHAT_")]
    for name in ("CYBERWEEK_SESSION_SECRET", "POSTGRES_PASSWORD", "AWS_SECRET_ACCESS_KEY"):
        assert name not in env


def test_the_action_server_keeps_what_the_actions_read() -> None:
    env = action_server_env(OPERATOR_ENV)
    for name in ("DATABASE_URL", "CYBERWEEK_NOW", SECRET_ENV, "PATH", "HOME", "LC_ALL"):
        assert env[name] == OPERATOR_ENV[name]
    assert env["SANIC_HOST"] == "127.0.0.1"  # never the operator's 0.0.0.0
    assert env["RASA_TELEMETRY_ENABLED"] == "false"


def test_the_action_servers_sanic_app_writes_no_access_log_unless_the_operator_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sanic reads SANIC_* when rasa-sdk creates its app: the variable must reach it as False."""
    monkeypatch.setattr(Sanic, "test_mode", True)  # one app name, created twice
    for operator, expected in (({}, False), ({ACCESS_LOG_ENV: "true"}, True)):
        env = action_server_env({**OPERATOR_ENV, **operator})
        monkeypatch.setenv(ACCESS_LOG_ENV, env[ACCESS_LOG_ENV])
        app = create_app("actions")
        assert app.config.ACCESS_LOG is expected


def test_the_harness_starts_it_through_the_entry_with_the_whitelisted_environment() -> None:
    service = harness.action_server(5055, OPERATOR_ENV)
    assert service.command[1:3] == ["-m", "ops.action_entry"]
    assert service.env == action_server_env(OPERATOR_ENV)


def test_rasa_keeps_its_environment_and_telemetry_is_off() -> None:
    rasa = harness.rasa_server(harness.paths.MODEL_PATH, harness.paths.ENDPOINTS_FILE, 5005, {})
    assert rasa.env["RASA_TELEMETRY_ENABLED"] == "false"
    operator = harness.rasa_server(
        harness.paths.MODEL_PATH,
        harness.paths.ENDPOINTS_FILE,
        5005,
        {"RASA_TELEMETRY_ENABLED": "true", "WECHAT_TOKEN": "x"},
    )
    assert operator.env["RASA_TELEMETRY_ENABLED"] == "true"  # an explicit opt-in stays
    assert operator.env["WECHAT_TOKEN"] == "x"  # Rasa runs the WeChat channel


# -- the entry point ---------------------------------------------------------------------------


@pytest.fixture()
def fake_rasa_sdk(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """rasa-sdk's main replaced: records argv, SANIC_HOST and the registered plugins."""
    import rasa_sdk.__main__
    from rasa_sdk.plugin import plugin_manager

    manager = plugin_manager()
    before = set(manager.get_plugins())
    calls: list[dict[str, Any]] = []

    def record() -> None:
        added = [p for p in manager.get_plugins() if p not in before]
        calls.append({"argv": sys.argv[1:], "host": os.environ["SANIC_HOST"], "plugins": added})

    monkeypatch.setattr(rasa_sdk.__main__, "main", record)
    monkeypatch.setattr(sys, "argv", ["ops.action_entry"])
    monkeypatch.setenv("SANIC_HOST", "0.0.0.0")
    yield calls
    for plugin in set(manager.get_plugins()) - before:
        manager.unregister(plugin)


def test_the_entry_binds_to_loopback_and_checks_the_secret_when_set(
    fake_rasa_sdk: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    action_entry.main(["--actions", "actions", "--port", "5055"])
    (call,) = fake_rasa_sdk
    assert call["argv"] == ["--actions", "actions", "--port", "5055"]
    assert call["host"] == "127.0.0.1"
    assert [type(p) for p in call["plugins"]] == [SharedSecretPlugin]
    assert call["plugins"][0].secret == SECRET


def test_without_a_secret_the_entry_adds_no_check(
    fake_rasa_sdk: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    action_entry.main(["--port", "5055"])
    assert fake_rasa_sdk[0]["plugins"] == [] and fake_rasa_sdk[0]["host"] == "127.0.0.1"


# -- the shared-secret check on rasa-sdk's own app ---------------------------------------------


@pytest.fixture()
def guarded_app(monkeypatch: pytest.MonkeyPatch) -> Sanic:
    """rasa-sdk's app for actions/, extended by the plugin as `rasa_sdk.endpoint.run` does."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    app = create_app("actions")
    app.name = f"actions_guarded_{next(_app_numbers)}"
    SharedSecretPlugin(SECRET).attach_sanic_app_extensions(app)
    return app


ACTION_CALL = {
    "next_action": "action_that_does_not_exist",
    "sender_id": "rest:t",
    "tracker": {"sender_id": "rest:t", "slots": {}, "events": [], "latest_message": {}},
    "domain": {},
    "version": "3.6.21",
}


@pytest.mark.parametrize("header", [None, "", "wrong", SECRET + "x"])
def test_a_call_without_the_secret_gets_401(guarded_app: Sanic, header: str | None) -> None:
    headers = {} if header is None else {SECRET_HEADER: header}
    _, webhook = guarded_app.test_client.post("/webhook", json=ACTION_CALL, headers=headers)
    _, listing = guarded_app.test_client.get("/actions", headers=headers)
    assert webhook.status == listing.status == 401


def test_a_call_with_the_secret_reaches_rasa_sdk(guarded_app: Sanic) -> None:
    headers = {SECRET_HEADER: SECRET}
    _, listing = guarded_app.test_client.get("/actions", headers=headers)
    assert listing.status == 200
    assert {"name": "action_answer_logistics"} in listing.json
    _, webhook = guarded_app.test_client.post("/webhook", json=ACTION_CALL, headers=headers)
    assert webhook.status == 404  # rasa-sdk's own answer: the request got through


def test_health_stays_open_for_the_harness(guarded_app: Sanic) -> None:
    _, health = guarded_app.test_client.get("/health")
    assert health.status == 200
