"""The production profile started for a test module (`cyberweek ops up --detach`, 2 instances)
and always taken down again, and what its tests read from it and check of it: shared by the
profile's tests and its fault tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Row

from bot import paths
from bot.db.queries import EventDB
from ops import harness, prod
from ops.harness import DEMO_NOW

REST_PATH = "/webhooks/rest/webhook"


@dataclass
class WidgetVisitor:
    """A website widget's socket.io client with a confirmed session; its replies' texts queue
    up in `replies`."""

    client: Any  # socketio.AsyncClient
    session_id: str
    token: str
    replies: asyncio.Queue[str]

    async def reply(self, timeout_s: float) -> str:
        """The next non-empty reply (asyncio.TimeoutError when none comes in time)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            left = deadline - asyncio.get_running_loop().time()
            text = await asyncio.wait_for(self.replies.get(), max(left, 0))
            if text:
                return text


async def widget_visitor(port: int, resume: WidgetVisitor | None = None) -> WidgetVisitor:
    """Connects to the Rasa instance on `port` as the widget does and asks for a session;
    `resume` presents another socket's session id and token (the instances share the secret)."""
    import socketio

    client = socketio.AsyncClient()
    confirmed: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    replies: asyncio.Queue[str] = asyncio.Queue()
    client.on("session_confirm", lambda session, token: confirmed.put_nowait((session, token)))
    client.on(
        "bot_uttered",
        lambda data: replies.put_nowait(data.get("text") or "" if isinstance(data, dict) else ""),
    )
    # polling: engineio's WebSocket client needs a newer aiohttp than Rasa pins
    await client.connect(f"http://127.0.0.1:{port}", transports=["polling"])
    asked = {"session_id": resume.session_id, "token": resume.token} if resume else {}
    await client.emit("session_request", asked)
    session, token = await asyncio.wait_for(confirmed.get(), 10)
    return WidgetVisitor(client, session, token, replies)


@dataclass
class RunningProfile:
    dirs: prod.ProfileDirs
    password: str

    @property
    def state(self) -> dict[str, Any]:
        """Read again each time: the launcher records a restarted server's new pid."""
        state = prod.read_state(self.dirs)
        assert state is not None, "the profile is not running"
        return state

    @property
    def url(self) -> str:
        """nginx, the profile's only public address."""
        return str(self.state["public_url"])

    @property
    def rest_url(self) -> str:
        return f"{self.url}{REST_PATH}"

    def instance(self, number: int) -> dict[str, Any]:
        return next(i for i in self.state["instances"] if i["number"] == number)

    def instance_url(self, number: int) -> str:
        """One Rasa instance's REST webhook, bypassing nginx."""
        return f"http://127.0.0.1:{self.instance(number)['rasa_port']}{REST_PATH}"

    def rasa_ports(self) -> list[int]:
        return [int(i["rasa_port"]) for i in self.state["instances"]]

    def pid(self, name: str, instance: int | None = None) -> int:
        return next(
            int(p["pid"])
            for p in self.state["processes"]
            if p["name"] == name and p.get("instance") == instance
        )

    def database_url(self, database: str) -> str:
        port = self.state["postgres_port"]
        return f"postgresql://{prod.DB_USER}:{self.password}@127.0.0.1:{port}/{database}"

    def tracker_rows(self, query: str, parameters: dict[str, Any] | None = None) -> list[Row]:
        """`query`'s rows in the conversations' database, over a connection of its own (one
        kept open would not survive a PostgreSQL restart)."""
        engine = sa.create_engine(self.database_url(prod.TRACKER_DB_NAME))
        try:
            with engine.connect() as connection:
                return list(connection.execute(sa.text(query), parameters or {}).fetchall())
        finally:
            engine.dispose()

    def opening_ceremony(self) -> dict[str, str]:
        """Its venue and date as the Chinese answers give them, read from the event database
        the profile loaded (what the answers must contain)."""
        db = EventDB(url=self.database_url(prod.DB_NAME))
        try:
            opening = db.event("opening_ceremony")
            venue = db.venue_of_event("opening_ceremony")
        finally:
            db.dispose()
        assert opening is not None and opening.start_date is not None and venue is not None
        day = opening.start_date
        return {"venue": venue.name("zh"), "date": f"{day.month}月{day.day}日"}


def cyberweek(*args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *args],
        cwd=paths.REPO_ROOT,
        # Every test client reaches nginx from loopback, so the instances see one address for
        # all of them: its rule widened here (it has its own tests: tests/attacks/).
        env={**os.environ, "CYBERWEEK_NOW": DEMO_NOW, "CYBERWEEK_LIMIT_PER_IP": "100 per second"},
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


@contextlib.contextmanager
def running_profile(directory: Path, instances: int = 2) -> Iterator[RunningProfile]:
    """A fresh profile in `directory` (skips the test when PostgreSQL, Redis or nginx is
    missing); `cyberweek ops down` at the end whatever happened."""
    try:
        prod.find_programs()
    except prod.ProfileError as error:
        pytest.skip(str(error))
    dirs = prod.ProfileDirs(directory)
    shutil.rmtree(dirs.root, ignore_errors=True)  # a fresh cluster: nothing from a last run
    port = harness.free_port()
    try:
        up = cyberweek(
            "ops", "up", "--detach", "--instances", str(instances), "--port", str(port),
            "--dir", str(dirs.root), timeout_s=600,
        )  # fmt: skip
        assert up.returncode == 0, up.stdout + up.stderr
        profile = RunningProfile(dirs, dirs.password_file.read_text().strip())
        assert profile.state["ready"]
        yield profile
    finally:
        cyberweek("ops", "down", "--dir", str(dirs.root), timeout_s=180)


def assert_down_leaves_nothing_running(profile: RunningProfile) -> None:
    """`cyberweek ops down` stops every process the profile recorded (restarted ones by their
    new pids), its launcher and anything else started from its folder, and frees its ports."""
    state = profile.state  # the launcher deletes it on the way down
    down = cyberweek("ops", "down", "--dir", str(profile.dirs.root), timeout_s=180)
    assert down.returncode == 0, down.stdout + down.stderr
    assert prod.leftover_processes(state) == []
    assert prod.launcher_pid(profile.dirs) is None
    root = str(profile.dirs.root.resolve())
    assert not [pid for pid in _all_pids() if root in prod._cmdline(pid)]
    for port in [int(state["public_url"].rsplit(":", 1)[1]), int(state["postgres_port"])]:
        assert not harness.port_in_use(port)


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
