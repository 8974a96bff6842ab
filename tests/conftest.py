"""Shared fixtures: a seeded throw-away database, the fixed clock, the trained model, servers.

The model is trained once per run by `make test` (models/cyberweek.tar.gz) and shared by every
test that needs it; tests never train.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import paths
from ops import harness
from ops.harness import DEMO_NOW


@pytest.fixture(scope="session")
def seeded_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real seed, loaded into a database of the test run's own."""
    from bot.db.seed import load_seed

    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'event.db'}"
    load_seed(paths.SEED_DIR, url=url)
    return url


@pytest.fixture(scope="session")
def server_env(seeded_db_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": seeded_db_url, "CYBERWEEK_NOW": DEMO_NOW}


@pytest.fixture(scope="session")
def trained_model() -> Path:
    if not paths.MODEL_PATH.exists():
        pytest.fail(f"{paths.MODEL_PATH} is missing: run the suite with `make test`, which trains")
    return paths.MODEL_PATH


@pytest.fixture(scope="session")
def action_server(server_env: dict[str, str]) -> Iterator[str]:
    """A real rasa-sdk action server on a free loopback port; yields its webhook URL."""
    port = harness.free_port()
    with harness.action_server(port, server_env).running():
        yield harness.action_webhook(port)


@pytest.fixture(scope="session")
def endpoints_file(action_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("endpoints") / "endpoints.yml"
    path.write_text(f'action_endpoint:\n  url: "{action_server}"\n')
    return path


@pytest.fixture(scope="session")
def rasa_server(
    trained_model: Path, endpoints_file: Path, server_env: dict[str, str]
) -> Iterator[str]:
    """`rasa run` with the REST channel; yields the webhook URL."""
    port = harness.free_port()
    with harness.rasa_server(trained_model, endpoints_file, port, server_env).running():
        yield f"http://127.0.0.1:{port}/webhooks/rest/webhook"
