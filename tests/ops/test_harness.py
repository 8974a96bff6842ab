"""ops.harness: readiness, stopping process groups, children that die with the launcher, and
`cyberweek serve` refusing a busy port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot import paths
from ops import harness
from ops.rasa_entry import rasa_command

PY = sys.executable


# ------------------------------------------------------------------------- /proc helpers
def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, start time) of a process, None when there is no such process."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def _alive(pid: int, started: int | None = None) -> bool:
    """Running (a zombie waiting for its reaper counts as gone); `started` guards pid reuse."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z" and (started is None or stat[2] == started)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid and stat[0] != "Z":
                found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _eventually(condition, timeout_s: float, poll_s: float = 0.2) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return bool(condition())


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _kill_leftovers(processes: dict[int, int]) -> None:
    for pid, started in processes.items():
        if _alive(pid, started):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture()
def devnull() -> Iterator[object]:
    with open(os.devnull, "wb") as sink:
        yield sink


# ------------------------------------------------------------------------- ports, commands
def test_port_in_use_sees_a_listener() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert harness.port_in_use(port)
    assert not harness.port_in_use(harness.free_port())


def test_rasa_command_goes_through_the_entry_point() -> None:
    assert rasa_command("run", "--port", "1") == [PY, "-m", "ops.rasa_entry", "run", "--port", "1"]
    assert rasa_command("train", "nlu", stock=True)[2:] == [
        "ops.rasa_entry",
        "--stock",
        "train",
        "nlu",
    ]
    assert harness.rasa_run_command(Path("m"), Path("e"), "127.0.0.1", 5)[:4] == [
        PY,
        "-m",
        "ops.rasa_entry",
        "run",
    ]


def test_endpoints_for_another_actions_port_is_a_copy(tmp_path: Path) -> None:
    default = harness.endpoints_for(harness.ACTIONS_PORT, paths.ENDPOINTS_FILE, tmp_path)
    assert default == paths.ENDPOINTS_FILE
    base = tmp_path / "base.yml"
    base.write_text('action_endpoint:\n  url: "http://127.0.0.1:5055/webhook"\nlock_store: x\n')
    copy = harness.endpoints_for(6123, base, tmp_path)
    assert copy != base
    assert yaml.safe_load(copy.read_text()) == {
        "action_endpoint": {"url": "http://127.0.0.1:6123/webhook"},
        "lock_store": "x",
    }


# ------------------------------------------------------------------------- readiness
def test_readiness_fails_at_once_when_the_process_exits(devnull: object) -> None:
    quitter = harness.Service(
        "quitter",
        [PY, "-c", "raise SystemExit(3)"],
        f"http://127.0.0.1:{harness.free_port()}/",
        os.environ,
    )
    started = time.monotonic()
    try:
        quitter.start(devnull)  # type: ignore[arg-type]
        with pytest.raises(harness.ServiceExited, match=r"quitter exited \(code 3\)"):
            quitter.wait_ready(timeout_s=60)
    finally:
        quitter.stop()
    assert time.monotonic() - started < 30


def test_readiness_times_out_on_a_silent_process(devnull: object) -> None:
    sleeper = harness.Service(
        "sleeper", ["sleep", "60"], f"http://127.0.0.1:{harness.free_port()}/", os.environ
    )
    started = time.monotonic()
    try:
        sleeper.start(devnull)  # type: ignore[arg-type]
        with pytest.raises(harness.NotReady, match="sleeper did not answer within 2 s"):
            sleeper.wait_ready(timeout_s=1.5)
        assert sleeper.is_running()
    finally:
        sleeper.stop()
    assert time.monotonic() - started < 20
    assert not sleeper.is_running()


def test_readiness_reports_each_ready_service(tmp_path: Path, devnull: object) -> None:
    port = harness.free_port()
    web = harness.Service(
        "web",
        [PY, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(tmp_path)],
        f"http://127.0.0.1:{port}/",
        os.environ,
    )
    ready = []
    try:
        web.start(devnull)  # type: ignore[arg-type]
        harness.wait_until_ready([web], timeout_s=60, on_ready=lambda s: ready.append(s.name))
    finally:
        web.stop()
    assert ready == ["web"]


# ------------------------------------------------------------------------- stopping
def _started_with_pid_file(command: str, tmp_path: Path) -> tuple[harness.Service, int]:
    """A `sh -c command` service whose command writes a background child's pid to $PID_FILE."""
    pid_file = tmp_path / "child.pid"
    service = harness.Service(
        "sh", ["sh", "-c", command], "", {**os.environ, "PID_FILE": str(pid_file)}
    )
    service.start()
    assert _eventually(lambda: pid_file.exists() and pid_file.read_text().strip(), 10)
    return service, int(pid_file.read_text())


def test_stop_terminates_the_whole_process_group(tmp_path: Path) -> None:
    service, child = _started_with_pid_file('sleep 300 & echo $! > "$PID_FILE"; wait', tmp_path)
    try:
        assert _alive(child)
        started = time.monotonic()
        service.stop(timeout_s=10)
        assert time.monotonic() - started < 10  # SIGTERM was enough
        assert _eventually(lambda: not _alive(child), 5)
    finally:
        _kill_leftovers({child: _stat(child)[2]} if _stat(child) else {})


def test_stop_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    # `trap "" TERM` makes the shell and its sleep (which inherits it) ignore SIGTERM
    service, child = _started_with_pid_file(
        'trap "" TERM; sleep 300 & echo $! > "$PID_FILE"; wait', tmp_path
    )
    try:
        started = time.monotonic()
        service.stop(timeout_s=1)
        assert time.monotonic() - started < 8
        assert service.process is not None and service.process.returncode == -signal.SIGKILL
        assert _eventually(lambda: not _alive(child), 5)
    finally:
        _kill_leftovers({child: _stat(child)[2]} if _stat(child) else {})


def test_stop_kills_what_the_leader_left_in_its_group(tmp_path: Path) -> None:
    service, child = _started_with_pid_file('sleep 300 & echo $! > "$PID_FILE"', tmp_path)
    try:
        assert service.process is not None
        service.process.wait(timeout=10)  # the shell is gone, its sleep is not
        assert _alive(child)
        service.stop()
        assert _eventually(lambda: not _alive(child), 5)
    finally:
        _kill_leftovers({child: _stat(child)[2]} if _stat(child) else {})


# ------------------------------------------------------------------------- dying with the launcher
LAUNCHER = """
import sys, time
from ops import harness
service = harness.Service("sleeper", ["sleep", "300"], "", {})
service.start()
print(service.pid, flush=True)
time.sleep(300)
"""


def test_a_child_dies_when_its_launcher_is_sigkilled() -> None:
    launcher = subprocess.Popen(
        [PY, "-c", LAUNCHER], cwd=paths.REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    child = None
    try:
        assert launcher.stdout is not None
        child = int(launcher.stdout.readline())
        assert _alive(child) and _stat(child)[1] == launcher.pid  # type: ignore[index]
        launcher.kill()
        launcher.wait(timeout=10)
        assert _eventually(lambda: not _alive(child), 10), "the child outlived its launcher"
    finally:
        launcher.kill()
        launcher.wait()
        if child is not None and _stat(child):
            _kill_leftovers({child: _stat(child)[2]})  # type: ignore[index]


def test_sigkilled_serve_leaves_no_server_behind(
    trained_model: Path, seeded_db_url: str, tmp_path: Path
) -> None:
    """What an operator saw: `make run` killed by a supervisor left :5055 taken."""
    rasa_port, actions_port = harness.free_port(), harness.free_port()
    env = {**os.environ, "DATABASE_URL": seeded_db_url, "CYBERWEEK_NOW": harness.DEMO_NOW}
    log = tmp_path / "serve.log"
    command = [
        PY,
        "-m",
        "ops.cli",
        "serve",
        "--port",
        str(rasa_port),
        "--actions-port",
        str(actions_port),
    ]
    recorded: dict[int, int] = {}
    leftover_dir: Path | None = None
    with log.open("wb") as output:
        launcher = subprocess.Popen(
            command, cwd=paths.REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while not _answers(f"http://127.0.0.1:{actions_port}/health"):
            assert launcher.poll() is None, f"serve exited early:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no action server:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        children = _children(launcher.pid)
        recorded = {pid: _stat(pid)[2] for pid in children}  # type: ignore[index]
        commands = [_cmdline(pid) for pid in children]
        assert len(children) == 2, commands
        assert any("ops.action_entry" in c for c in commands), commands
        assert any("ops.rasa_entry run" in c for c in commands), commands
        rasa_args = next(c for c in commands if "ops.rasa_entry run" in c).split()
        endpoints = Path(rasa_args[rasa_args.index("--endpoints") + 1])
        if endpoints.parent.name.startswith("cyberweek-"):  # the SIGKILLed launcher's temp dir
            leftover_dir = endpoints.parent

        launcher.kill()
        launcher.wait(timeout=10)

        def all_gone() -> bool:
            return not any(_alive(pid, started) for pid, started in recorded.items())

        assert _eventually(all_gone, 20), [
            _cmdline(pid) for pid, started in recorded.items() if _alive(pid, started)
        ]
        assert _eventually(lambda: not harness.port_in_use(actions_port), 5)
        assert not harness.port_in_use(rasa_port)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        _kill_leftovers(recorded)
        if leftover_dir is not None:
            shutil.rmtree(leftover_dir, ignore_errors=True)


# ------------------------------------------------------------------------- a busy port
@pytest.mark.parametrize("busy, option", [("actions", "--actions-port"), ("rasa", "--port")])
def test_serve_refuses_a_busy_port(busy: str, option: str, trained_model: Path) -> None:
    rasa_port, actions_port = harness.free_port(), harness.free_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", actions_port if busy == "actions" else rasa_port))
        squatter.listen()
        taken = squatter.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [
                PY,
                "-m",
                "ops.cli",
                "serve",
                "--port",
                str(rasa_port),
                "--actions-port",
                str(actions_port),
            ],
            cwd=paths.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert time.monotonic() - started < 60
    assert f"still running on :{taken}" in result.stderr
    assert f"fuser -k {taken}/tcp" in result.stderr and option in result.stderr
    assert "starting" not in result.stdout  # refused before starting anything
    assert not harness.port_in_use(rasa_port if busy == "actions" else actions_port)
