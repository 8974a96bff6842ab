"""`cyberweek serve`: the action server and Rasa in the foreground; Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bot import paths
from bot.channels.cors import OriginError, allowed_origins
from ops.rasa_entry import RASA_COMMAND

READY_TIMEOUT_S = 240
ACTIONS_PORT = 5055  # endpoints.yml points Rasa here
WIDGET_DEMO_PATH = "/webhooks/socketio/demo/"  # served by bot/channels/webchat.py


@dataclass
class Service:
    name: str
    command: list[str]
    health_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # Own process group, so Ctrl-C in the terminal reaches us first and we stop the
        # children in order instead of both dying mid-request.
        self.process = subprocess.Popen(
            self.command, cwd=paths.REPO_ROOT, env=self.env, start_new_session=True
        )

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if not self.is_running():
            return
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def action_server_command(port: int) -> list[str]:
    """The rasa-sdk action server for actions/ (bind it to loopback with SANIC_HOST)."""
    return [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]


def rasa_run_command(model: Path, endpoints: Path, host: str, port: int) -> list[str]:
    """`rasa run` of `model` with the channels in credentials.yml."""
    return [
        *RASA_COMMAND, "run",
        "--model", str(model),
        "--endpoints", str(endpoints),
        "--credentials", str(paths.CREDENTIALS_FILE),
        "--interface", host, "--port", str(port),
    ]  # fmt: skip


def action_server(port: int) -> Service:
    env = {**os.environ, "SANIC_HOST": "127.0.0.1"}  # only Rasa needs to reach it
    command = action_server_command(port)
    return Service("action server", command, f"http://127.0.0.1:{port}/health", env)


def rasa_server(port: int, host: str) -> Service:
    command = rasa_run_command(paths.MODEL_PATH, paths.ENDPOINTS_FILE, host, port)
    return Service("Rasa", command, f"http://127.0.0.1:{port}/webhooks/rest/", dict(os.environ))


def wait_until_ready(services: list[Service], timeout_s: float = READY_TIMEOUT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    pending = list(services)
    while pending and time.monotonic() < deadline:
        for service in list(pending):
            if not service.is_running():
                print(f"error: the {service.name} exited during start-up", file=sys.stderr)
                return False
            if _answers(service.health_url):
                print(f"    {service.name} is ready", flush=True)
                pending.remove(service)
        time.sleep(1)
    return not pending


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def print_usage(host: str, port: int) -> None:
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    url = f"{base}/webhooks/rest/webhook"
    print(
        f"""
The assistant is running. Open the event site's demo page and chat with the widget:

  {base}{WIDGET_DEMO_PATH}          (English page: add ?lang=en)

or talk to it over the REST channel:

  curl -s {url} \\
       -H 'Content-Type: application/json' \\
       -d '{{"sender": "visitor-1", "message": "开幕式在哪里举行"}}'

Set CYBERWEEK_NOW=2024-09-10T10:00:00+08:00 before `make run` to fix "today" for a demo.
Press Ctrl-C to stop both servers.
""",
        flush=True,
    )


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(rasa_port: int, host: str, actions_port: int = ACTIONS_PORT) -> int:
    if not paths.MODEL_PATH.exists():
        print("error: no trained model; run `make run` (it trains first)", file=sys.stderr)
        return 1
    try:
        allowed_origins()  # the widget's channel reads it too: a bad value stops us here
    except OriginError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    services = [action_server(actions_port), rasa_server(rasa_port, host)]
    # `kill <pid>` (or a supervisor's stop) must stop the children too, as Ctrl-C does.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    print("==> starting the action server and Rasa (loading the model takes ~30 s)", flush=True)
    try:
        for service in services:
            service.start()
        if not wait_until_ready(services):
            print("error: the servers did not become ready; see the log above", file=sys.stderr)
            return 1
        print_usage(host, rasa_port)
        while all(service.is_running() for service in services):
            time.sleep(1)
        print("error: a server stopped unexpectedly; shutting down", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n==> stopping", flush=True)
        return 0
    finally:
        for service in reversed(services):
            service.stop()
