"""Fixtures shared by the WeChat channel's tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops import harness
from ops.harness import free_port


@pytest.fixture()
def redis_url(tmp_path: Path) -> Iterator[str]:
    """REDIS_URL if the environment has one, else a throw-away redis-server if installed."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no REDIS_URL and no redis-server installed: the Redis path is not exercised")
    port = free_port()
    command = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--dir",
        str(tmp_path),
    ]
    redis = harness.Service("redis-server", command, health_url="", env=os.environ)
    try:
        with open(os.devnull, "wb") as devnull:
            redis.start(devnull)
        assert redis.process is not None
        _wait_for_port(port, redis.process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        redis.stop()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port}")
