"""The process harness: the action server and `rasa run` as child processes, started, waited
for and stopped the same way by `cyberweek serve`, the end-to-end evaluation and the tests.

Each child runs in a process group of its own (Ctrl-C in the terminal reaches only the
launcher, which stops the children in order) and dies with the launcher even when the
launcher is SIGKILLed (see `_die_with_launcher`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from bot import paths
from ops import action_entry
from ops.rasa_entry import rasa_command

DEMO_NOW = "2024-09-10T10:00:00+08:00"  # the demo clock (CYBERWEEK_NOW): Tuesday of the event week
ACTIONS_PORT = 5055  # endpoints.yml points Rasa here
LOOPBACK = "127.0.0.1"
TELEMETRY_ENV = "RASA_TELEMETRY_ENABLED"  # Rasa's switch (rasa/telemetry.py)
READY_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 15.0
_POLL_S = 0.5


class HarnessError(RuntimeError):
    """A service could not be started (the message says which and why)."""


class PortInUse(HarnessError):
    def __init__(self, port: int, what: str) -> None:
        super().__init__(f"port {port} ({what}) is already in use")
        self.port = port
        self.what = what


class ServiceExited(HarnessError):
    pass


class NotReady(HarnessError, TimeoutError):
    pass


# ------------------------------------------------------------------------- ports
def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on now (the OS's choice; another process may take it later)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = LOOPBACK) -> bool:
    """Whether a server on `host` could not bind `port` (a listener there, or on 0.0.0.0)."""
    with socket.socket() as sock:
        # as the servers themselves bind: a closed connection's TIME_WAIT does not count
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


# ------------------------------------------------------------------------- one process
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_launcher(launcher_pid: int) -> Callable[[], None]:
    """The child's pre-exec step: SIGTERM it when the launcher dies, even by SIGKILL.

    The setting survives exec, is not inherited by the child's own children, and fires when
    the launcher's *thread* that started the child ends: start services from a thread that
    lives as long as they should (the main thread everywhere here).
    """
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    sigterm = int(signal.SIGTERM)

    def in_child() -> None:
        # Why: a SIGKILLed launcher cannot stop its children; without this the action server
        # stayed on :5055 after a supervisor's time-out and the next `make run` failed.
        prctl(_PR_SET_PDEATHSIG, sigterm, 0, 0, 0)
        if os.getppid() != launcher_pid:  # it died between fork and prctl: no signal will come
            os._exit(1)

    return in_child


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Service:
    """One server process: its command, environment and a URL that answers 200 when ready.

    Servers that speak no HTTP (PostgreSQL, Redis) give a `ready_check` instead; `user` runs
    the process as that account (PostgreSQL refuses root); `stop_signal` is what `stop()` sends
    first (SIGINT is PostgreSQL's fast shutdown, SIGTERM would wait for its clients).
    """

    name: str
    command: list[str]
    health_url: str
    env: Mapping[str, str]
    ready_check: Callable[[], bool] | None = field(default=None, repr=False)
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, log: IO[bytes] | None = None) -> None:
        """Starts the process; its output goes to `log`, or to our terminal when None."""
        self.process = subprocess.Popen(
            self.command,
            cwd=paths.REPO_ROOT if self.user is None else "/",  # `user` may not read the repo
            env=dict(self.env),
            stdout=log,
            stderr=None if log is None else subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
            # the uid changes before preexec_fn runs, so the parent-death signal stays set
            **_as_user(self.user),
            preexec_fn=_die_with_launcher(os.getpid()),
        )

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def is_ready(self) -> bool:
        """Answers on its health URL; raises ServiceExited if the process has ended."""
        if self.process is None:
            raise HarnessError(f"the {self.name} was never started")
        if self.process.poll() is not None:
            raise ServiceExited(
                f"the {self.name} exited (code {self.process.returncode}) during start-up"
            )
        return self.ready_check() if self.ready_check else _answers(self.health_url)

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        wait_until_ready([self], timeout_s)

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM to its process group, SIGKILL to the group if still there after timeout_s."""
        if self.process is None:
            return
        if self.process.poll() is None:
            _signal_group(self.process.pid, self.stop_signal)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                pass
        # also whatever the leader left behind in its group
        _signal_group(self.process.pid, signal.SIGKILL)
        self.process.wait()

    @contextlib.contextmanager
    def running(
        self, log: IO[bytes] | None = None, timeout_s: float = READY_TIMEOUT_S
    ) -> Iterator[Service]:
        """Started and ready inside the block, stopped after it (also when start-up fails)."""
        try:
            self.start(log)
            self.wait_ready(timeout_s)
            yield self
        finally:
            self.stop()


def _as_user(user: str | None) -> dict[str, Any]:
    """Popen's arguments that run the child as `user` with that user's own groups only."""
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def wait_until_ready(
    services: Sequence[Service],
    timeout_s: float = READY_TIMEOUT_S,
    on_ready: Callable[[Service], None] | None = None,
) -> None:
    """Polls every service's health URL until all answer; raises ServiceExited as soon as one
    exits and NotReady after timeout_s."""
    deadline = time.monotonic() + timeout_s
    pending = list(services)
    while True:
        for service in list(pending):
            if service.is_ready():
                pending.remove(service)
                if on_ready is not None:
                    on_ready(service)
        if not pending:
            return
        if time.monotonic() >= deadline:
            names = " and the ".join(service.name for service in pending)
            raise NotReady(f"the {names} did not answer within {timeout_s:.0f} s")
        time.sleep(_POLL_S)


def wait_for_exit(services: Sequence[Service], poll_s: float = 1.0) -> Service:
    """Blocks until one of the services' processes ends; returns that one."""
    while True:
        for service in services:
            if not service.is_running():
                return service
        time.sleep(poll_s)


def stop_all(services: Sequence[Service]) -> None:
    """Stops the services in reverse order of start (Rasa before the actions it calls)."""
    for service in reversed(services):
        service.stop()


# ------------------------------------------------------------------------- the commands
def action_server_command(port: int) -> list[str]:
    """The rasa-sdk action server for actions/, through ops.action_entry (loopback, secret)."""
    return action_entry.action_server_command(port)


def rasa_run_command(
    model: Path,
    endpoints: Path,
    host: str,
    port: int,
    credentials: Path = paths.CREDENTIALS_FILE,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """`rasa run` of `model` with the channels in `credentials` (default credentials.yml)."""
    return rasa_command(
        "run",
        "--model",
        str(model),
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials),
        "--interface",
        host,
        "--port",
        str(port),
        *extra_args,
    )


def action_server(port: int, env: Mapping[str, str]) -> Service:
    """The action server on loopback (only Rasa needs to reach it), with only the part of
    `env` it needs (no WeChat secrets, no session key: ops.action_entry.action_server_env)."""
    return Service(
        "action server",
        action_server_command(port),
        f"http://{LOOPBACK}:{port}/health",
        action_entry.action_server_env(env),
    )


def rasa_server(
    model: Path,
    endpoints: Path,
    port: int,
    env: Mapping[str, str],
    host: str = LOOPBACK,
    credentials: Path = paths.CREDENTIALS_FILE,
    extra_args: Sequence[str] = (),
    health_path: str = "/webhooks/rest/",
) -> Service:
    """`rasa run`; ready when `health_path` (a channel's health route) answers."""
    command = rasa_run_command(model, endpoints, host, port, credentials, extra_args)
    # telemetry off unless the operator opts in (ops.rasa_entry does the same for every Rasa)
    env = {TELEMETRY_ENV: "false", **env}
    return Service("Rasa", command, f"http://{LOOPBACK}:{port}{health_path}", env)


def action_webhook(port: int) -> str:
    return f"http://{LOOPBACK}:{port}/webhook"


def endpoints_for(actions_port: int, base: Path, workdir: Path) -> Path:
    """`base` if it already sends Rasa to the action server on `actions_port`, else a copy
    in `workdir` that does (every other setting of `base` kept)."""
    settings = yaml.safe_load(base.read_text(encoding="utf-8")) or {}
    url = action_webhook(actions_port)
    if (settings.get("action_endpoint") or {}).get("url") == url:
        return base
    settings["action_endpoint"] = {**(settings.get("action_endpoint") or {}), "url": url}
    path = workdir / "endpoints.yml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------------- the assistant
@dataclass
class Assistant:
    """The running action server and Rasa of `running_assistant`."""

    actions_port: int
    rasa_port: int
    endpoints: Path
    services: list[Service]

    @property
    def webhook(self) -> str:
        """Rasa's REST channel."""
        return f"http://{LOOPBACK}:{self.rasa_port}/webhooks/rest/webhook"


@contextlib.contextmanager
def running_assistant(
    env: Mapping[str, str],
    model: Path = paths.MODEL_PATH,
    *,
    rasa_port: int | None = None,
    actions_port: int | None = None,
    host: str = LOOPBACK,
    endpoints: Path = paths.ENDPOINTS_FILE,
    credentials: Path = paths.CREDENTIALS_FILE,
    log: Path | None = None,
    timeout_s: float = READY_TIMEOUT_S,
    on_start: Callable[[], None] | None = None,
    on_ready: Callable[[Service], None] | None = None,
) -> Iterator[Assistant]:
    """The action server and `rasa run` of `model`, ready inside the block, stopped after it.

    Ports not given are free loopback ports. Rasa reaches the action server through
    `endpoints`, or through a temporary copy pointing at `actions_port` when it points
    elsewhere. Output goes to `log` (appended), or to the terminal when None. Raises
    PortInUse before starting anything when a port is taken, and ServiceExited or NotReady
    (with both services stopped) when start-up fails. `on_start()` is called just before the
    processes start, `on_ready(service)` as each one answers.
    """
    actions_port = free_port() if actions_port is None else actions_port
    rasa_port = free_port() if rasa_port is None else rasa_port
    if actions_port == rasa_port:
        raise HarnessError(f"the action server and Rasa cannot share port {rasa_port}")
    checks = [(actions_port, LOOPBACK, "action server"), (rasa_port, host, "Rasa")]
    for port, bind_host, what in checks:
        if port_in_use(port, bind_host):
            raise PortInUse(port, what)
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cyberweek-")))
        output: IO[bytes] | None = None
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            output = stack.enter_context(log.open("ab"))
        endpoints_file = endpoints_for(actions_port, endpoints, workdir)
        paths.VAR_DIR.mkdir(exist_ok=True)  # endpoints.yml keeps conversations there (SQLite)
        services = [
            action_server(actions_port, env),
            rasa_server(model, endpoints_file, rasa_port, env, host, credentials),
        ]
        stack.callback(stop_all, services)  # runs before the log closes and workdir goes
        if on_start is not None:
            on_start()
        for service in services:
            service.start(output)
        wait_until_ready(services, timeout_s, on_ready)
        yield Assistant(actions_port, rasa_port, endpoints_file, services)
