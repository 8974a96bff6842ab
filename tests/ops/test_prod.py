"""The production profile's files and arithmetic, without starting anything (ops/prod.py,
deploy/). The profile itself runs in tests/ops/test_prod_profile.py."""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from bot.channels.webchat import SOCKETIO_REDIS_CHANNEL, share_pushes_through_redis
from bot.limits import MAX_BODY_BYTES
from ops import harness, prod


def _profile(tmp_path: Path, instances: int = 2) -> prod.Profile:
    pairs = tuple(
        prod.Instance(n + 1, rasa_port=6000 + 10 * n, actions_port=6001 + 10 * n)
        for n in range(instances)
    )
    return prod.Profile(
        dirs=prod.ProfileDirs(tmp_path / "prod"),
        public_port=8099,
        postgres_port=5999,
        redis_port=6999,
        password="s3cret-Pass_word",
        session_secret="widget-sessions-key-of-32-chars-",
        action_secret="action-server-key-of-32-chars---",
        instances=pairs,
        rate_per_ip=7,
        conn_per_ip=42,
    )


def _block(conf: str, head: str) -> str:
    """The text of the `head { ... }` block (no nested braces inside these blocks)."""
    match = re.search(re.escape(head) + r"\s*\{(.*?)\}", conf, re.S)
    assert match, f"no block {head!r}"
    return match.group(1)


# ------------------------------------------------------------------------- nginx.conf
@pytest.mark.parametrize("instances", [1, 3])
def test_nginx_conf_sends_rest_round_robin_and_socketio_sticky(
    tmp_path: Path, instances: int
) -> None:
    profile = _profile(tmp_path, instances)
    conf = prod.render_nginx_conf(profile, as_root=False)
    addresses = [f"127.0.0.1:{i.rasa_port}" for i in profile.instances]
    rest, sticky = _block(conf, "upstream rasa_rest"), _block(conf, "upstream rasa_sticky")
    assert re.findall(r"server (\S+?) ", rest) == addresses
    assert re.findall(r"server (\S+?) ", sticky) == addresses
    assert "ip_hash" not in rest and "ip_hash;" in sticky
    for path in ("/webhooks/rest/", "/webhooks/wechat/"):
        assert "proxy_pass http://rasa_rest;" in _block(conf, f"location {path}")
    for path in ("/webhooks/socketio/", f"{prod.SOCKETIO_PATH}/", "/webhooks/desk/"):
        assert "proxy_pass http://rasa_sticky;" in _block(conf, f"location {path}")


def test_nginx_retries_a_refused_rest_or_wechat_post_on_the_other_instance_never_a_slow_one(
    tmp_path: Path,
) -> None:
    conf = prod.render_nginx_conf(_profile(tmp_path, 2), as_root=False)
    for path in ("/webhooks/rest/", "/webhooks/wechat/"):
        location = _block(conf, f"location {path}")
        retry = re.search(r"^\s*proxy_next_upstream ([^;]*);", location, re.M)
        assert retry and retry.group(1).split() == ["error", "non_idempotent"]
        assert re.search(r"^\s*proxy_connect_timeout \d+s;", location, re.M)
    for path in ("/webhooks/socketio/", "/webhooks/desk/"):  # a session lives on its instance
        assert "proxy_next_upstream" not in _block(conf, f"location {path}")


def test_nginx_conf_upgrades_websockets_on_the_socketio_paths(tmp_path: Path) -> None:
    conf = prod.render_nginx_conf(_profile(tmp_path), as_root=False)
    assert re.search(r"map \$http_upgrade \$connection_upgrade", conf)
    for path in ("/webhooks/socketio/", "/socket.io/"):
        block = _block(conf, f"location {path}")
        assert "proxy_set_header Upgrade $http_upgrade;" in block
        assert "proxy_set_header Connection $connection_upgrade;" in block
    assert "proxy_http_version 1.1;" in conf


def test_nginx_conf_listens_on_loopback_only_and_exposes_nothing_else(tmp_path: Path) -> None:
    profile = _profile(tmp_path)
    conf = prod.render_nginx_conf(profile, as_root=False)
    assert re.findall(r"^\s*listen\s+([^;]+);", conf, re.M) == [f"127.0.0.1:{profile.public_port}"]
    assert "return 404;" in _block(conf, "location /")
    # named locations (@slow_down_*: the bodies of a 429) are internal, never a URL
    locations = re.findall(r"^\s*location\s+([^@\s]\S*)\s*\{", conf, re.M)
    assert sorted(locations) == sorted(
        ["/webhooks/rest/", "/webhooks/wechat/", "/webhooks/socketio/", "/socket.io/"]
        + ["/webhooks/desk/", "/"]
    )
    assert "{{" not in conf and "}}" not in conf
    assert "daemon off;" in conf  # a child of the launcher, never a daemon of its own


def test_nginx_conf_limits_bodies_rates_and_connections(tmp_path: Path) -> None:
    profile = _profile(tmp_path)
    conf = prod.render_nginx_conf(profile, as_root=False)
    assert f"client_max_body_size {MAX_BODY_BYTES // 1024}k;" in conf
    assert f"rate={profile.rate_per_ip}r/s" in conf
    assert f"limit_conn conn_per_ip {profile.conn_per_ip};" in conf
    for path in ("/webhooks/rest/", "/webhooks/wechat/", "/webhooks/desk/"):
        assert "limit_req zone=per_ip" in _block(conf, f"location {path}")


def test_nginx_conf_runs_workers_unprivileged_when_started_as_root(tmp_path: Path) -> None:
    profile = _profile(tmp_path)
    assert re.search(r"^user \S+;", prod.render_nginx_conf(profile, as_root=True), re.M)
    assert not re.search(r"^user ", prod.render_nginx_conf(profile, as_root=False), re.M)


def test_a_template_name_without_a_value_is_an_error() -> None:
    assert prod.render_template("a {{x}} b", {"x": "1"}) == "a 1 b"
    with pytest.raises(KeyError):
        prod.render_template("{{missing}}", {})


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_the_rendered_conf(tmp_path: Path) -> None:
    profile = _profile(tmp_path)
    conf = prod.write_nginx_conf(profile)
    prefix = profile.dirs.nginx.resolve()
    done = subprocess.run(
        ["nginx", "-t", "-p", f"{prefix}/", "-c", str(conf), "-e", str(prefix / "logs/e.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------------------- endpoints
def test_endpoints_take_each_instances_stores_and_action_server_from_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.shared.utils.io import read_yaml_file

    profile = _profile(tmp_path)
    second = profile.instances[1]
    for name, value in prod.instance_env(profile, second, {}).items():
        monkeypatch.setenv(name, value)
    endpoints = read_yaml_file(prod.ENDPOINTS_TEMPLATE)
    assert endpoints["action_endpoint"]["url"] == harness.action_webhook(second.actions_port)
    tracker = endpoints["tracker_store"]
    assert tracker["type"] == "bot.desk.tracker_store.DeskTrackerStore"
    assert tracker["dialect"] == "postgresql"
    assert (tracker["url"], int(tracker["port"])) == ("127.0.0.1", profile.postgres_port)
    assert (tracker["username"], tracker["password"]) == (prod.DB_USER, profile.password)
    assert tracker["db"] == prod.TRACKER_DB_NAME != prod.DB_NAME  # Rasa's `events` apart
    lock = endpoints["lock_store"]
    assert lock["type"] == "bot.lock_store.AtomicRedisLockStore"  # atomic across instances
    assert (lock["url"], int(lock["port"])) == ("127.0.0.1", profile.redis_port)
    assert int(lock["db"]) == prod.REDIS_LOCK_DB


def test_rasa_sends_its_action_server_the_profiles_shared_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.utils.endpoints import read_endpoint_config

    from ops import action_entry

    profile = _profile(tmp_path)
    for name, value in prod.instance_env(profile, profile.instances[0], {}).items():
        monkeypatch.setenv(name, value)
    endpoint = read_endpoint_config(str(prod.ENDPOINTS_TEMPLATE), "action_endpoint")
    assert endpoint is not None
    assert endpoint.headers == {action_entry.SECRET_HEADER: profile.action_secret}


def test_the_action_server_gets_the_secret_and_the_database_but_no_other_secret(
    tmp_path: Path,
) -> None:
    profile = _profile(tmp_path)
    operator = {"WECHAT_TOKEN": "t" * 32, "WECHAT_APP_SECRET": "s", "PATH": "/usr/bin"}
    env = prod.instance_env(profile, profile.instances[0], operator)
    service = harness.action_server(profile.instances[0].actions_port, env)
    assert service.env["CYBERWEEK_ACTION_SECRET"] == profile.action_secret
    assert service.env["DATABASE_URL"] == profile.database_url
    leaked = {"WECHAT_TOKEN", "WECHAT_APP_SECRET", "CYBERWEEK_SESSION_SECRET", "POSTGRES_PASSWORD"}
    assert not leaked & set(service.env)
    assert service.env["SANIC_HOST"] == "127.0.0.1"
    assert env["RASA_TELEMETRY_ENABLED"] == "false"


def test_the_action_secret_is_made_once_and_kept_with_the_other_secrets(tmp_path: Path) -> None:
    dirs = prod.ProfileDirs(tmp_path)
    first = prod.plan_profile(dirs, 1, 18080, {})
    again = prod.plan_profile(dirs, 1, 18080, {})
    assert len(first.action_secret) >= 32 and first.action_secret == again.action_secret
    assert first.action_secret not in (first.password, first.session_secret)
    assert dirs.action_secret_file.stat().st_mode & 0o777 == 0o600


# ------------------------------------------------------------------------- environment
def test_each_instance_calls_its_own_action_server_and_shares_the_stores(tmp_path: Path) -> None:
    profile = _profile(tmp_path, instances=3)
    envs = [prod.instance_env(profile, i, {"CYBERWEEK_NOW": "x"}) for i in profile.instances]
    urls = [env["ACTION_ENDPOINT_URL"] for env in envs]
    assert urls == [harness.action_webhook(i.actions_port) for i in profile.instances]
    for env in envs:
        assert env["DATABASE_URL"] == profile.database_url
        assert env["DATABASE_URL"].startswith("postgresql://cyberweek:s3cret-Pass_word@127.0.0.1:")
        assert env["DATABASE_URL"].endswith(f":{profile.postgres_port}/{prod.DB_NAME}")
        assert env["REDIS_URL"] == f"redis://127.0.0.1:{profile.redis_port}/0"
        assert env["SANIC_WORKERS"] == "1"
        assert env["CYBERWEEK_NOW"] == "x"  # the operator's environment passes through
        assert (env["SQL_POOL_SIZE"], env["SQL_MAX_OVERFLOW"]) == ("5", "5")
        # one key for the widget sessions: a session issued by one instance opens on another
        assert env["CYBERWEEK_SESSION_SECRET"] == profile.session_secret


def test_plan_profile_gives_every_process_its_own_port(tmp_path: Path) -> None:
    profile = prod.plan_profile(prod.ProfileDirs(tmp_path), 3, 8099, {"SQL_POOL_SIZE": "2"})
    ports = [profile.public_port, profile.postgres_port, profile.redis_port]
    ports += [p for i in profile.instances for p in (i.rasa_port, i.actions_port)]
    assert len(set(ports)) == len(ports) == 9
    assert profile.sql_pool_size == 2 and profile.sql_max_overflow == 5


def test_the_password_is_made_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "db-password"
    first = prod.stored_password(path)
    assert len(first) >= 24 and re.fullmatch(r"[A-Za-z0-9_-]+", first)  # safe in a URL
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert prod.stored_password(path) == first


# ------------------------------------------------------------------------- connections
def test_the_connection_budget_counts_every_pool_and_stays_below_max_connections() -> None:
    budget = prod.ConnectionBudget(instances=2, tracker_pool=10)
    autocommit = prod.AUTOCOMMIT_POOL_SIZE  # per store with one-statement reads
    per_rasa = 10 + prod.RASA_ENGINES * prod.ENGINE_CONNECTIONS + 4 * autocommit
    per_actions = prod.ACTIONS_ENGINES * prod.ENGINE_CONNECTIONS + 2 * autocommit
    assert budget.per_instance == per_rasa + per_actions
    assert budget.at_most == 2 * (per_rasa + per_actions)
    reserved = prod.SUPERUSER_RESERVED + prod.OPERATOR_CONNECTIONS
    assert budget.max_connections == budget.at_most + reserved
    assert budget.at_most < budget.max_connections - prod.SUPERUSER_RESERVED
    assert f"max_connections = {budget.max_connections}" in budget.describe()


def test_the_budget_grows_with_instances_and_pools(tmp_path: Path) -> None:
    one = prod.ConnectionBudget(1, 10)
    assert prod.ConnectionBudget(3, 10).at_most == 3 * one.at_most
    assert prod.ConnectionBudget(1, 30).at_most == one.at_most + 20
    profile = _profile(tmp_path, instances=4)
    assert profile.budget == prod.ConnectionBudget(4, 5 + 5)


# ------------------------------------------------------------------------- socket.io
def test_socketio_pushes_go_through_redis_when_redis_url_is_set() -> None:
    import socketio

    server = socketio.AsyncServer(async_mode="sanic")  # as Rasa builds it
    share_pushes_through_redis(server, "redis://127.0.0.1:6390/0")  # no connection yet
    assert isinstance(server.manager, socketio.AsyncRedisManager)
    assert server.manager.server is server
    assert server.manager.channel == SOCKETIO_REDIS_CHANNEL
    assert server.manager_initialized is False  # its listener starts with a connection


def test_socketio_keeps_its_own_manager_without_redis() -> None:
    import socketio

    server = socketio.AsyncServer(async_mode="sanic")
    share_pushes_through_redis(server, "")
    assert type(server.manager) is socketio.AsyncManager


# ------------------------------------------------------------------------- processes
def test_a_recorded_pid_counts_only_while_it_is_that_kind_of_process(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        assert not prod.process_alive(sleeper.pid, "nginx")  # a reused pid is not ours
    finally:
        sleeper.kill()
        sleeper.wait()
    state = {"processes": [{"name": "nginx", "pid": sleeper.pid, "instance": None}]}
    assert prod.leftover_processes(state) == []


def test_down_without_a_profile_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert prod.down(prod.ProfileDirs(tmp_path)) == 0
    assert "not running" in capsys.readouterr().out
    assert prod.status(prod.ProfileDirs(tmp_path)) == 1


# ------------------------------------------------------------------------- harness extensions
def test_a_service_without_http_is_ready_by_its_own_check(tmp_path: Path) -> None:
    flag = tmp_path / "ready"
    service = harness.Service(
        "sleeper", ["sleep", "30"], health_url="", env={}, ready_check=flag.exists
    )
    with open(os.devnull, "wb") as devnull:
        service.start(devnull)
        try:
            assert not service.is_ready()
            flag.touch()
            assert service.is_ready()
        finally:
            service.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="running as another user needs root")
def test_a_service_runs_as_its_user_with_that_users_groups_and_its_stop_signal() -> None:
    import pwd
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="cyberweek-"))  # pytest's tmp_path is root's only
    folder.chmod(0o755)
    out = folder / "out"
    out.touch()
    out.chmod(0o666)
    script = f'id -u > {out}; id -G >> {out}; trap "echo INT >> {out}; exit 0" INT; sleep 30 & wait'
    service = harness.Service(
        "as nobody", ["sh", "-c", script], "", {}, user="nobody", stop_signal=signal.SIGINT
    )
    service.start(None)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and out.read_text().count("\n") < 2:
        time.sleep(0.05)
    service.stop()
    nobody = pwd.getpwnam("nobody")
    uid, groups, *rest = out.read_text().splitlines()
    assert int(uid) == nobody.pw_uid
    assert groups.split() == [str(nobody.pw_gid)]  # not root's group
    assert rest == ["INT"]
    shutil.rmtree(folder)


def test_supervision_restarts_a_server_that_exits_and_gives_up_on_one_that_keeps_exiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prod, "RESTART_DELAY_S", 0.0)
    monkeypatch.setattr(prod, "SUPERVISE_POLL_S", 0.01)
    monkeypatch.setattr(prod, "MAX_RESTARTS", 2)
    profile = _profile(tmp_path)
    profile.dirs.root.mkdir(parents=True)
    marks = tmp_path / "starts"
    crashing = harness.Service("Redis", ["sh", "-c", f"echo x >> {marks}; exit 3"], "", {})
    running = prod.Running(profile)
    with open(os.devnull, "wb") as devnull:
        running.add(crashing, devnull)
        running.start(crashing)
        with pytest.raises(harness.ServiceExited, match="exited 3 times"):
            prod.supervise(running)
    assert marks.read_text().count("x") == 3  # the first start and two restarts
    state = prod.read_state(profile.dirs)
    assert state is not None and state["processes"][0]["pid"] == crashing.pid
