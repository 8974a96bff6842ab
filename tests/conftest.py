"""Shared fixtures: a seeded throw-away database, the fixed clock, the trained model, servers.

The model is trained once per run by `make test` (models/cyberweek.tar.gz) and shared by every
test that needs it; tests never train.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import paths
from ops.serve import action_server_command, rasa_run_command

DEMO_NOW = "2024-09-10T10:00:00+08:00"  # Tuesday of the event week


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen[bytes], timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
    port = free_port()
    env = {**server_env, "SANIC_HOST": "127.0.0.1"}
    process = subprocess.Popen(
        action_server_command(port),
        cwd=paths.REPO_ROOT,
        env=env,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", process)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        stop(process)


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
    port = free_port()
    process = subprocess.Popen(
        rasa_run_command(trained_model, endpoints_file, "127.0.0.1", port),
        cwd=paths.REPO_ROOT,
        env=server_env,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/webhooks/rest/", process)
        yield f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    finally:
        stop(process)
