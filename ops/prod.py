"""`cyberweek ops up|down|status`: the production profile on this machine, on loopback.

PostgreSQL (event database, help desk, Rasa's tracker store), Redis (Rasa's lock store, WeChat's
dedupe and access token, socket.io's pushes between instances), N pairs of an action server and
`rasa run` (one Sanic worker each) and nginx in front, the only public port. Everything lives
under build/prod/ (data, logs, the generated nginx.conf, the app role's password) and every
process is an `ops.harness.Service`: a child of the `up` launcher that dies with it.

Why `up` stays in the foreground (as `cyberweek serve` does) rather than daemonising each
server: the launcher owns every process, so Ctrl-C, SIGTERM or even SIGKILL of the launcher
stops them all (the harness's parent-death signal) and no pid file can go stale and leave a
server behind. It also supervises: a server that exits is started again (a killed Rasa
instance comes back while nginx sends its visitors to the others). `up --detach` starts the
same launcher in the background and returns when the profile answers; `down` signals the
launcher (its pid is in build/prod/launcher.pid) and then checks that none of the recorded
processes is left.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bot import paths
from bot.db.engine import AUTOCOMMIT_POOL_SIZE
from bot.limits import MAX_BODY_BYTES
from ops import harness
from ops.action_entry import SECRET_ENV as ACTION_SECRET_ENV
from ops.harness import TELEMETRY_ENV

DEPLOY_DIR = paths.REPO_ROOT / "deploy"
ENDPOINTS_TEMPLATE = DEPLOY_DIR / "endpoints.prod.yml"
NGINX_TEMPLATE = DEPLOY_DIR / "nginx.conf"
DEFAULT_DIR = paths.BUILD_DIR / "prod"
DEFAULT_PORT = 8080
LOOPBACK = harness.LOOPBACK

DB_NAME = "cyberweek"  # events and the help desk (DATABASE_URL)
# Rasa's tracker store: a database of its own, as on a laptop (var/conversations.db), because
# Rasa's table of conversation events and the event database's table are both called `events`.
TRACKER_DB_NAME = "cyberweek_conversations"
DB_USER = "cyberweek"
PG_SUPERUSER = "postgres"
PG_OS_USER = "postgres"  # PostgreSQL refuses to run as root
REDIS_LOCK_DB = 1  # Rasa's lock store; REDIS_URL's database 0 holds WeChat's keys
SOCKETIO_PATH = "/socket.io"  # Rasa's default; credentials.yml does not change it

# Rasa's tracker store pool per instance (its own defaults, 50 + 100, would need 150
# connections per instance); the operator may set SQL_POOL_SIZE / SQL_MAX_OVERFLOW.
DEFAULT_SQL_POOL_SIZE = 5
DEFAULT_SQL_MAX_OVERFLOW = 5
# Every other engine is bot.db.engine.make_engine's: SQLAlchemy's QueuePool, 5 + 10 overflow.
ENGINE_CONNECTIONS = 5 + 10
RASA_ENGINES = 3  # per Rasa: the desk store, the names' EventDB, the console's FactEditor
ACTIONS_ENGINES = 2  # per action server: EventDB, the desk store
# The autocommit engines besides (bot.db.engine.autocommit_engine): per Rasa the tracker
# store's, the desk store's, the names' and the console's EventDB's; per action server the
# actions' EventDB's and the desk store's.
AUTOCOMMIT_CONNECTIONS_PER_RASA = 4 * AUTOCOMMIT_POOL_SIZE
AUTOCOMMIT_CONNECTIONS_PER_ACTION_SERVER = 2 * AUTOCOMMIT_POOL_SIZE
SUPERUSER_RESERVED = 3  # PostgreSQL's superuser_reserved_connections default
OPERATOR_CONNECTIONS = 5  # `cyberweek db load`, psql, the schema step

DEFAULT_RATE_PER_IP = 30  # requests/s per visitor IP (REST, WeChat, console), burst twice that
DEFAULT_CONN_PER_IP = 200  # open connections per IP: a venue's Wi-Fi shares one address
RESTART_DELAY_S = 2.0
MAX_RESTARTS = 5  # per RESTART_WINDOW_S: beyond that a server is broken, not unlucky
RESTART_WINDOW_S = 300.0
SUPERVISE_POLL_S = 1.0
DOWN_TIMEOUT_S = 90.0


class ProfileError(RuntimeError):
    """The profile cannot start (the message says why and what to do)."""


# ------------------------------------------------------------------------- what runs where
@dataclass(frozen=True)
class ProfileDirs:
    """Where the profile keeps its data, logs and generated files."""

    root: Path

    @property
    def pg_data(self) -> Path:
        return self.root / "postgres" / "data"

    @property
    def pg_socket(self) -> Path:
        return self.root / "postgres" / "run"

    @property
    def redis(self) -> Path:
        return self.root / "redis"

    @property
    def nginx(self) -> Path:
        return self.root / "nginx"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def password_file(self) -> Path:
        return self.root / "secrets" / "db-password"

    @property
    def session_secret_file(self) -> Path:
        return self.root / "secrets" / "session-secret"

    @property
    def action_secret_file(self) -> Path:
        return self.root / "secrets" / "action-secret"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def launcher_pid_file(self) -> Path:
        return self.root / "launcher.pid"


@dataclass(frozen=True)
class Instance:
    """One Rasa instance and the action server only it calls."""

    number: int
    rasa_port: int
    actions_port: int


@dataclass(frozen=True)
class ConnectionBudget:
    """PostgreSQL connections the profile may open at most, and the `max_connections` above it."""

    instances: int
    tracker_pool: int  # SQL_POOL_SIZE + SQL_MAX_OVERFLOW

    @property
    def per_rasa(self) -> int:
        return (
            self.tracker_pool + RASA_ENGINES * ENGINE_CONNECTIONS + AUTOCOMMIT_CONNECTIONS_PER_RASA
        )

    @property
    def per_action_server(self) -> int:
        return ACTIONS_ENGINES * ENGINE_CONNECTIONS + AUTOCOMMIT_CONNECTIONS_PER_ACTION_SERVER

    @property
    def per_instance(self) -> int:
        return self.per_rasa + self.per_action_server

    @property
    def at_most(self) -> int:
        return self.instances * self.per_instance

    @property
    def max_connections(self) -> int:
        return self.at_most + OPERATOR_CONNECTIONS + SUPERUSER_RESERVED

    def describe(self) -> str:
        return (
            f"{self.instances} instance(s) x ({self.tracker_pool} tracker store "
            f"[SQL_POOL_SIZE + SQL_MAX_OVERFLOW] + {RASA_ENGINES} x {ENGINE_CONNECTIONS} other "
            f"Rasa pools + {ACTIONS_ENGINES} x {ENGINE_CONNECTIONS} action-server pools + "
            f"{AUTOCOMMIT_CONNECTIONS_PER_RASA + AUTOCOMMIT_CONNECTIONS_PER_ACTION_SERVER} autocommit "
            "reads) = "
            f"{self.at_most} at most, + {OPERATOR_CONNECTIONS} for the operator + "
            f"{SUPERUSER_RESERVED} reserved -> max_connections = {self.max_connections}"
        )


@dataclass(frozen=True)
class Profile:
    """The settings of one `up`: ports, the app role's password, pools and limits."""

    dirs: ProfileDirs
    public_port: int
    postgres_port: int
    redis_port: int
    password: str
    # the widget sessions' HMAC key (CYBERWEEK_SESSION_SECRET): one for all instances, or
    # each would refuse the sessions the others issued
    session_secret: str
    # the header Rasa sends its action server (CYBERWEEK_ACTION_SECRET, ops/action_entry.py)
    action_secret: str
    instances: tuple[Instance, ...]
    sql_pool_size: int = DEFAULT_SQL_POOL_SIZE
    sql_max_overflow: int = DEFAULT_SQL_MAX_OVERFLOW
    rate_per_ip: int = DEFAULT_RATE_PER_IP
    conn_per_ip: int = DEFAULT_CONN_PER_IP

    @property
    def database_url(self) -> str:
        return f"postgresql://{DB_USER}:{self.password}@{LOOPBACK}:{self.postgres_port}/{DB_NAME}"

    @property
    def tracker_database_url(self) -> str:
        return self.database_url.rsplit("/", 1)[0] + f"/{TRACKER_DB_NAME}"

    @property
    def redis_url(self) -> str:
        return f"redis://{LOOPBACK}:{self.redis_port}/0"

    @property
    def public_url(self) -> str:
        return f"http://{LOOPBACK}:{self.public_port}"

    @property
    def budget(self) -> ConnectionBudget:
        return ConnectionBudget(len(self.instances), self.sql_pool_size + self.sql_max_overflow)


def profile_env(profile: Profile, base: Mapping[str, str]) -> dict[str, str]:
    """The environment every process of the profile shares (deploy/endpoints.prod.yml reads
    the POSTGRES_* and REDIS_* variables; bot.db reads DATABASE_URL; WeChat and socket.io
    REDIS_URL)."""
    return {
        **base,
        "DATABASE_URL": profile.database_url,
        "REDIS_URL": profile.redis_url,
        "POSTGRES_HOST": LOOPBACK,
        "POSTGRES_PORT": str(profile.postgres_port),
        "POSTGRES_DB": TRACKER_DB_NAME,
        "POSTGRES_USER": DB_USER,
        "POSTGRES_PASSWORD": profile.password,
        "CYBERWEEK_SESSION_SECRET": profile.session_secret,
        ACTION_SECRET_ENV: profile.action_secret,
        TELEMETRY_ENV: "false",
        "REDIS_HOST": LOOPBACK,
        "REDIS_PORT": str(profile.redis_port),
        "REDIS_LOCK_DB": str(REDIS_LOCK_DB),
        "SQL_POOL_SIZE": str(profile.sql_pool_size),
        "SQL_MAX_OVERFLOW": str(profile.sql_max_overflow),
        "SANIC_WORKERS": "1",  # one process per instance: the instances are the scale
        # the visitor's address as nginx saw it (X-Real-IP), for the app's per-address rate
        # limits and the console's sign-in throttle; the instances listen on loopback only
        "SANIC_REAL_IP_HEADER": "X-Real-IP",
    }


def instance_env(profile: Profile, instance: Instance, base: Mapping[str, str]) -> dict[str, str]:
    """One instance's environment: the profile's, and its own action server."""
    return {
        **profile_env(profile, base),
        "ACTION_ENDPOINT_URL": harness.action_webhook(instance.actions_port),
    }


# ------------------------------------------------------------------------- nginx.conf
def render_template(template: str, values: Mapping[str, str]) -> str:
    """`template` with each {{name}} replaced; a name without a value raises KeyError."""
    return re.sub(r"\{\{(\w+)\}\}", lambda match: values[match.group(1)], template)


def _servers(instances: Sequence[Instance]) -> str:
    # a refused connection sends the request to the next instance (REST and WeChat:
    # proxy_next_upstream in deploy/nginx.conf) and keeps the dead one out for fail_timeout
    return "\n".join(
        f"        server {LOOPBACK}:{i.rasa_port} max_fails=1 fail_timeout=5s;" for i in instances
    )


def render_nginx_conf(profile: Profile, template: str | None = None, *, as_root: bool) -> str:
    """deploy/nginx.conf filled for `profile` (loopback only)."""
    prefix = profile.dirs.nginx.resolve()
    values = {
        "prefix": str(prefix),
        "worker_processes": "1",  # two cores are for Rasa; one worker carries thousands
        # nginx started as root would run its workers as nobody, who may not read build/
        "user_directive": f"user {_nginx_worker_user()};" if as_root else "",
        "listen": f"{LOOPBACK}:{profile.public_port}",
        "max_body": f"{MAX_BODY_BYTES // 1024}k",
        "rate_per_ip": str(profile.rate_per_ip),
        "burst": str(2 * profile.rate_per_ip),
        "conn_per_ip": str(profile.conn_per_ip),
        "rest_servers": _servers(profile.instances),
        "sticky_servers": _servers(profile.instances),
        "socketio_path": SOCKETIO_PATH,
    }
    text = NGINX_TEMPLATE.read_text(encoding="utf-8") if template is None else template
    return render_template(text, values)


def _nginx_worker_user() -> str:
    import pwd

    for name in ("www-data", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    return "nobody"


# ------------------------------------------------------------------------- programs
@dataclass(frozen=True)
class Programs:
    pg_bin: Path
    redis_server: str
    nginx: str


def find_programs() -> Programs:
    """Debian's PostgreSQL (not on PATH: /usr/lib/postgresql/N/bin), redis-server and nginx."""
    pg_dirs = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda d: int(Path(d).parent.name) if Path(d).parent.name.isdigit() else 0,
    )
    pg_bin = Path(pg_dirs[-1]) if pg_dirs else None
    if pg_bin is None and shutil.which("initdb"):
        pg_bin = Path(shutil.which("initdb") or "").resolve().parent
    redis_server = shutil.which("redis-server") or _existing("/usr/bin/redis-server")
    nginx = shutil.which("nginx") or _existing("/usr/sbin/nginx")
    if pg_bin is None or not (pg_bin / "postgres").exists() or not redis_server or not nginx:
        raise ProfileError(
            "the production profile needs PostgreSQL, redis-server and nginx: run "
            "`scripts/ensure-services` (as root; `make prod-up` does)"
        )
    return Programs(pg_bin, redis_server, nginx)


def _existing(path: str) -> str | None:
    return path if os.access(path, os.X_OK) else None


# ------------------------------------------------------------------------- PostgreSQL
def stored_password(path: Path) -> str:
    """A generated secret (the app role's password, the widget sessions' key, 32 characters):
    made once, kept in `path` (mode 600) for the next `up`."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    password = secrets.token_urlsafe(24)  # URL-safe: it goes into DATABASE_URL as it is
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(password + "\n")
    return password


def _owned_by_postgres(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    if os.geteuid() == 0:
        shutil.chown(directory, PG_OS_USER, PG_OS_USER)


def _pg_user() -> str | None:
    """Who runs PostgreSQL: the `postgres` account when we are root, else ourselves."""
    return PG_OS_USER if os.geteuid() == 0 else None


def init_cluster(programs: Programs, dirs: ProfileDirs, log: IO[bytes]) -> None:
    """A new cluster in dirs.pg_data unless there is one (its data survives `down`).

    Local (socket) connections are trusted, in a directory only its owner and root may enter;
    TCP connections need a password (scram-sha-256).
    """
    _owned_by_postgres(dirs.pg_socket)
    if (dirs.pg_data / "PG_VERSION").exists():
        return
    _owned_by_postgres(dirs.pg_data)
    print("==> creating the PostgreSQL cluster (initdb)", flush=True)
    command = [
        str(programs.pg_bin / "initdb"),
        "-D",
        str(dirs.pg_data.resolve()),
        "-U",
        PG_SUPERUSER,
        "-E",
        "UTF8",
        "--no-locale",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
    ]
    user = _pg_user()
    extra = {} if user is None else {"user": user, "group": user, "extra_groups": []}
    done = subprocess.run(command, cwd="/", stdout=log, stderr=subprocess.STDOUT, **extra)
    if done.returncode != 0:
        raise ProfileError(f"initdb failed (code {done.returncode}); see {log.name}")


def postgres_service(programs: Programs, profile: Profile) -> harness.Service:
    dirs = profile.dirs
    settings = {
        "listen_addresses": LOOPBACK,
        "port": str(profile.postgres_port),
        "unix_socket_directories": str(dirs.pg_socket.resolve()),
        "max_connections": str(profile.budget.max_connections),
    }
    command = [str(programs.pg_bin / "postgres"), "-D", str(dirs.pg_data.resolve())]
    for name, value in settings.items():
        command += ["-c", f"{name}={value}"]
    return harness.Service(
        "PostgreSQL",
        command,
        health_url="",
        env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"},
        ready_check=lambda: _postgres_answers(profile),
        user=_pg_user(),
        stop_signal=signal.SIGINT,  # fast shutdown: SIGTERM would wait for clients
    )


def _superuser_connection(profile: Profile) -> Any:
    import psycopg2

    return psycopg2.connect(
        host=str(profile.dirs.pg_socket.resolve()),
        port=profile.postgres_port,
        user=PG_SUPERUSER,
        dbname="postgres",
        connect_timeout=2,
    )


def _postgres_answers(profile: Profile) -> bool:
    import psycopg2

    try:
        _superuser_connection(profile).close()
    except psycopg2.OperationalError:
        return False
    return True


def ensure_role_and_database(profile: Profile) -> None:
    """The app role (its password the stored one) and its databases, created when missing."""
    connection = _superuser_connection(profile)
    connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (DB_USER,))
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            cursor.execute(f"{verb} ROLE {DB_USER} LOGIN PASSWORD %s", (profile.password,))
            for database in (DB_NAME, TRACKER_DB_NAME):
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
                if cursor.fetchone() is None:
                    cursor.execute(f"CREATE DATABASE {database} OWNER {DB_USER}")
    finally:
        connection.close()


# ------------------------------------------------------------------------- Redis, nginx
def redis_service(programs: Programs, profile: Profile) -> harness.Service:
    command = [
        programs.redis_server,
        "--bind",
        LOOPBACK,
        "--port",
        str(profile.redis_port),
        "--dir",
        str(profile.dirs.redis.resolve()),
        "--save",
        "",  # no persistence: locks, dedupe and tokens are short-lived
        "--appendonly",
        "no",
        "--daemonize",
        "no",
    ]
    return harness.Service(
        "Redis",
        command,
        health_url="",
        env={"PATH": os.environ.get("PATH", "")},
        ready_check=lambda: _redis_answers(profile.redis_url),
    )


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def nginx_service(programs: Programs, profile: Profile, conf: Path) -> harness.Service:
    prefix = profile.dirs.nginx.resolve()
    command = [
        programs.nginx,
        "-p",
        f"{prefix}/",
        "-c",
        str(conf.resolve()),
        "-e",
        str(prefix / "logs" / "error.log"),  # not /var/log/nginx, before the conf is read
    ]
    return harness.Service(
        "nginx",
        command,
        f"{profile.public_url}/webhooks/rest/",  # ready when it reaches a ready instance
        env={"PATH": os.environ.get("PATH", "")},
    )


def write_nginx_conf(profile: Profile) -> Path:
    prefix = profile.dirs.nginx
    for sub in ("logs", "tmp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(render_nginx_conf(profile, as_root=os.geteuid() == 0), encoding="utf-8")
    return conf


# ------------------------------------------------------------------------- state on disk
# What /proc/PID/cmdline of each kind of process contains: `down` never signals a pid that
# was reused by something else.
MARKERS = {
    "PostgreSQL": "postgres",
    "Redis": "redis-server",
    "nginx": "nginx",
    "action server": "ops.action_entry",
    "Rasa": "ops.rasa_entry",
    "launcher": "ops",
}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def process_alive(pid: int, kind: str) -> bool:
    """Whether `pid` runs and is still a process of that kind (not a reused pid)."""
    status = Path(f"/proc/{pid}/stat")
    try:
        state = status.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and MARKERS[kind] in _cmdline(pid)


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(data, indent=2), encoding="utf-8")
    partial.replace(path)  # readers never see half a file


def read_state(dirs: ProfileDirs) -> dict[str, Any] | None:
    try:
        return dict(json.loads(dirs.state_file.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


@dataclass
class Running:
    """The launcher's services, each with its kind and log."""

    profile: Profile
    services: list[harness.Service] = field(default_factory=list)
    instance_of: dict[int, int] = field(default_factory=dict)  # id(service) -> instance number
    logs: dict[int, IO[bytes]] = field(default_factory=dict)

    def add(
        self, service: harness.Service, log: IO[bytes], instance: int | None = None
    ) -> harness.Service:
        self.services.append(service)
        self.logs[id(service)] = log
        if instance is not None:
            self.instance_of[id(service)] = instance
        return service

    def start(self, service: harness.Service) -> None:
        service.start(self.logs[id(service)])

    def state(self, ready: bool) -> dict[str, Any]:
        profile = self.profile
        return {
            "ready": ready,
            "launcher_pid": os.getpid(),
            "public_url": profile.public_url,
            "postgres_port": profile.postgres_port,
            "redis_port": profile.redis_port,
            "redis_url": profile.redis_url,
            "redis_lock_db": REDIS_LOCK_DB,
            "max_connections": profile.budget.max_connections,
            "instances": [
                {"number": i.number, "rasa_port": i.rasa_port, "actions_port": i.actions_port}
                for i in profile.instances
            ],
            "processes": [
                {
                    "name": service.name,
                    "instance": self.instance_of.get(id(service)),
                    "pid": service.pid,
                }
                for service in self.services
                if service.pid is not None
            ],
        }

    def save(self, ready: bool) -> None:
        _write_json(self.profile.dirs.state_file, self.state(ready))


# ------------------------------------------------------------------------- up
def choose_ports(count: int, taken: set[int]) -> list[int]:
    """`count` free loopback ports, different from each other and from `taken`."""
    chosen: list[int] = []
    while len(chosen) < count:
        port = harness.free_port()
        if port not in taken and port not in chosen:
            chosen.append(port)
    return chosen


def plan_profile(
    dirs: ProfileDirs, instances: int, public_port: int, env: Mapping[str, str]
) -> Profile:
    ports = choose_ports(2 + 2 * instances, {public_port})
    postgres_port, redis_port, *pair_ports = ports
    pairs = tuple(
        Instance(n + 1, rasa_port=pair_ports[2 * n], actions_port=pair_ports[2 * n + 1])
        for n in range(instances)
    )
    return Profile(
        dirs=dirs,
        public_port=public_port,
        postgres_port=postgres_port,
        redis_port=redis_port,
        password=stored_password(dirs.password_file),
        session_secret=stored_password(dirs.session_secret_file),
        action_secret=stored_password(dirs.action_secret_file),
        instances=pairs,
        sql_pool_size=int(env.get("SQL_POOL_SIZE") or DEFAULT_SQL_POOL_SIZE),
        sql_max_overflow=int(env.get("SQL_MAX_OVERFLOW") or DEFAULT_SQL_MAX_OVERFLOW),
        rate_per_ip=int(env.get("CYBERWEEK_RATE_PER_IP") or DEFAULT_RATE_PER_IP),
        conn_per_ip=int(env.get("CYBERWEEK_CONN_PER_IP") or DEFAULT_CONN_PER_IP),
    )


def _run_step(what: str, command: list[str], env: Mapping[str, str], log: IO[bytes]) -> None:
    print(f"==> {what}", flush=True)
    log.write(f"\n==> {what}\n".encode())
    log.flush()
    done = subprocess.run(
        command, cwd=paths.REPO_ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT
    )
    if done.returncode != 0:
        raise ProfileError(f"{what} failed (code {done.returncode}); see {log.name}")


def create_schemas() -> None:
    """The help desk's and Rasa's tracker store tables, made once before the instances start
    (instances creating them at the same moment collide on PostgreSQL's catalogue). Reads
    the environment `profile_env` gives."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.db.desk import DeskStore
    from bot.db.engine import database_url

    store = DeskStore(database_url())
    store.ensure_schema()
    store.dispose()
    tracker_url = sa.engine.URL.create(
        "postgresql",
        username=os.environ["POSTGRES_USER"],
        password=os.environ["POSTGRES_PASSWORD"],
        host=os.environ["POSTGRES_HOST"],
        port=int(os.environ["POSTGRES_PORT"]),
        database=os.environ["POSTGRES_DB"],
    )
    engine = sa.create_engine(tracker_url)
    SQLTrackerStore.Base.metadata.create_all(engine)
    engine.dispose()


def _start_pairs(running: Running, env: Mapping[str, str], model: Path) -> list[harness.Service]:
    profile = running.profile
    started: list[harness.Service] = []
    for instance in profile.instances:
        log = (profile.dirs.logs / f"instance-{instance.number}.log").open("ab")
        own_env = instance_env(profile, instance, env)
        actions = harness.action_server(instance.actions_port, own_env)
        rasa = harness.rasa_server(model, ENDPOINTS_TEMPLATE, instance.rasa_port, own_env)
        for service in (actions, rasa):
            running.add(service, log, instance.number)
            running.start(service)
            started.append(service)
    return started


def bring_up(running: Running, env: Mapping[str, str], model: Path, load_db: bool) -> None:
    """Starts everything in order, each step waiting for the one it needs."""
    profile = running.profile
    dirs = profile.dirs
    programs = find_programs()
    for directory in (dirs.logs, dirs.redis, dirs.nginx):
        directory.mkdir(parents=True, exist_ok=True)
    print(f"==> PostgreSQL connection budget: {profile.budget.describe()}", flush=True)
    pg_log = (dirs.logs / "postgres.log").open("ab")
    init_cluster(programs, dirs, pg_log)
    print(f"==> starting PostgreSQL (:{profile.postgres_port}) and Redis", flush=True)
    stores = [
        running.add(postgres_service(programs, profile), pg_log),
        running.add(redis_service(programs, profile), (dirs.logs / "redis.log").open("ab")),
    ]
    for service in stores:
        running.start(service)
    harness.wait_until_ready(stores, timeout_s=60)
    ensure_role_and_database(profile)
    shared = profile_env(profile, env)
    step_log = (dirs.logs / "setup.log").open("ab")
    if load_db:
        load = [sys.executable, "-m", "ops.cli", "db", "load"]  # URL from DATABASE_URL
        _run_step("loading the event database into PostgreSQL", load, shared, step_log)
    schemas = [sys.executable, "-m", "ops.prod", "create-schemas"]
    _run_step("creating the help desk's and Rasa's tables", schemas, shared, step_log)
    count = len(profile.instances)
    print(f"==> starting {count} action server(s) and Rasa instance(s) (~30 s)", flush=True)
    harness.wait_until_ready(_start_pairs(running, env, model), on_ready=_report_ready)
    conf = write_nginx_conf(profile)
    nginx = running.add(nginx_service(programs, profile, conf), open(os.devnull, "wb"))
    running.start(nginx)
    harness.wait_until_ready([nginx], timeout_s=30)


def _report_ready(service: harness.Service) -> None:
    print(f"    {service.name} on {service.health_url.split('/')[2]} is ready", flush=True)


def supervise(running: Running) -> None:
    """Until interrupted: a server that exits is started again after RESTART_DELAY_S; one that
    keeps exiting (MAX_RESTARTS within RESTART_WINDOW_S) stops the profile (HarnessError)."""
    restarts: dict[int, list[float]] = {}
    while True:
        for service in running.services:
            if service.is_running():
                continue
            code = service.process.returncode if service.process else None
            now = time.monotonic()
            recent = [t for t in restarts.get(id(service), []) if now - t < RESTART_WINDOW_S]
            if len(recent) >= MAX_RESTARTS:
                raise harness.ServiceExited(
                    f"the {service.name} exited {len(recent) + 1} times within "
                    f"{RESTART_WINDOW_S:.0f} s (last code {code})"
                )
            restarts[id(service)] = [*recent, now]
            print(f"!!  the {service.name} exited (code {code}); restarting", flush=True)
            time.sleep(RESTART_DELAY_S)
            running.start(service)
            running.save(ready=True)
        time.sleep(SUPERVISE_POLL_S)


def print_usage(profile: Profile) -> None:
    url = profile.public_url
    print(
        f"""
The production profile is running; nginx at {url} is its only public port.

  REST:     curl -s {url}/webhooks/rest/webhook -H 'Content-Type: application/json' \\
                 -d '{{"sender": "visitor-1", "message": "开幕式在哪里举行"}}'
  widget:   {url}/webhooks/socketio/demo/
  console:  {url}/webhooks/desk/

PostgreSQL :{profile.postgres_port} (max_connections {profile.budget.max_connections}), \
Redis :{profile.redis_port}, {len(profile.instances)} Rasa instance(s); logs in {profile.dirs.logs}.
Stop with Ctrl-C, or `cyberweek ops down` from another terminal.
""",
        flush=True,
    )


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def launcher_pid(dirs: ProfileDirs) -> int | None:
    """The pid of the profile's live launcher, if one runs."""
    try:
        pid = int(dirs.launcher_pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if process_alive(pid, "launcher") else None


@contextlib.contextmanager
def _launcher_files(dirs: ProfileDirs) -> Iterator[None]:
    dirs.root.mkdir(parents=True, exist_ok=True)
    dirs.launcher_pid_file.write_text(f"{os.getpid()}\n")
    try:
        yield
    finally:
        for path in (dirs.state_file, dirs.launcher_pid_file):
            path.unlink(missing_ok=True)


def up(
    dirs: ProfileDirs,
    instances: int,
    public_port: int,
    *,
    load_db: bool = True,
    model: Path = paths.MODEL_PATH,
) -> int:
    """The whole profile in the foreground until Ctrl-C or SIGTERM; 1 when it cannot start."""
    if instances < 1:
        print("error: --instances must be at least 1", file=sys.stderr)
        return 1
    if not model.exists():
        print("error: no trained model; run `make model` first", file=sys.stderr)
        return 1
    running_pid = launcher_pid(dirs)
    if running_pid is not None:
        print(
            f"error: the profile already runs (launcher pid {running_pid}); "
            "stop it with `cyberweek ops down`",
            file=sys.stderr,
        )
        return 1
    if harness.port_in_use(public_port):
        print(f"error: port {public_port} is in use; choose another with --port", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    env = dict(os.environ)
    profile = plan_profile(dirs, instances, public_port, env)
    running = Running(profile)
    try:
        with _launcher_files(dirs):
            try:
                bring_up(running, env, model, load_db)
                running.save(ready=True)
                print_usage(profile)
                supervise(running)
            except KeyboardInterrupt:
                print("\n==> stopping the profile", flush=True)
                return 0
            except (harness.HarnessError, ProfileError) as error:
                print(f"error: {error}; logs in {dirs.logs}", file=sys.stderr)
                return 1
            finally:
                harness.stop_all(running.services)  # nginx first, PostgreSQL last
                for log in set(running.logs.values()):
                    log.close()
    except KeyboardInterrupt:  # a second signal while stopping: stop_all ran as far as it could
        harness.stop_all(running.services)
    return 0


def up_detached(dirs: ProfileDirs, instances: int, public_port: int, load_db: bool) -> int:
    """Starts `up` as a background launcher; returns when the profile answers (0) or the
    launcher gave up (1, its log shown)."""
    dirs.logs.mkdir(parents=True, exist_ok=True)
    log_path = dirs.logs / "up.log"
    command = [
        sys.executable,
        "-m",
        "ops.cli",
        "ops",
        "up",
        "--instances",
        str(instances),
        "--port",
        str(public_port),
        "--dir",
        str(dirs.root),
        *([] if load_db else ["--no-db-load"]),
    ]
    with log_path.open("ab") as log:
        launcher = subprocess.Popen(
            command,
            cwd=paths.REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not stopped by the terminal's Ctrl-C
        )
    print(
        f"==> the profile's launcher runs in the background (pid {launcher.pid}); log: {log_path}"
    )
    deadline = time.monotonic() + harness.READY_TIMEOUT_S + 120
    while time.monotonic() < deadline:
        state = read_state(dirs)
        if state and state.get("ready") and state.get("launcher_pid") == launcher.pid:
            print(f"    ready at {state['public_url']}; stop it with `cyberweek ops down`")
            return 0
        if launcher.poll() is not None:
            print(f"error: the launcher stopped (code {launcher.returncode}):", file=sys.stderr)
            print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
            return 1
        time.sleep(1)
    print("error: the profile did not become ready; stopping it", file=sys.stderr)
    down(dirs)
    return 1


# ------------------------------------------------------------------------- down, status
def _wait_gone(pid: int, kind: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not process_alive(pid, kind):
            return True
        time.sleep(0.2)
    return not process_alive(pid, kind)


def leftover_processes(state: Mapping[str, Any] | None) -> list[tuple[str, int]]:
    """The recorded processes that still run."""
    if not state:
        return []
    return [
        (entry["name"], int(entry["pid"]))
        for entry in state.get("processes", [])
        if process_alive(int(entry["pid"]), entry["name"])
    ]


def down(dirs: ProfileDirs, timeout_s: float = DOWN_TIMEOUT_S) -> int:
    """Stops the launcher (which stops its servers), then anything recorded that is left."""
    state = read_state(dirs)
    pid = launcher_pid(dirs)
    if pid is None and not leftover_processes(state):
        print("the production profile is not running")
        return 0
    if pid is not None:
        print(f"==> stopping the profile (launcher pid {pid})", flush=True)
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, "launcher", timeout_s):
            # its children get SIGTERM from the kernel when it dies (harness's death signal)
            print("    the launcher did not stop in time; killing it", flush=True)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, "launcher", 5)
    for name, leftover in leftover_processes(state):
        if not _wait_gone(leftover, name, 10):
            print(f"    killing the left-over {name} (pid {leftover})", flush=True)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(leftover, signal.SIGKILL)
    remaining = leftover_processes(state)
    for path in (dirs.state_file, dirs.launcher_pid_file):
        path.unlink(missing_ok=True)
    if remaining:
        print(f"error: still running: {remaining}", file=sys.stderr)
        return 1
    print("    stopped; nothing of the profile is running")
    return 0


def status(dirs: ProfileDirs) -> int:
    """Prints what runs; 0 when the launcher and every recorded process run."""
    state = read_state(dirs)
    pid = launcher_pid(dirs)
    if pid is None or state is None:
        print("the production profile is not running")
        return 1
    print(f"launcher pid {pid}, {'ready' if state.get('ready') else 'starting'}")
    print(f"public:  {state['public_url']} (nginx)")
    print(f"stores:  PostgreSQL :{state['postgres_port']}, Redis :{state['redis_port']}")
    print(f"budget:  max_connections {state['max_connections']}")
    healthy = True
    for entry in state.get("processes", []):
        alive = process_alive(int(entry["pid"]), entry["name"])
        healthy = healthy and alive
        where = f" (instance {entry['instance']})" if entry.get("instance") else ""
        print(f"  {entry['name']}{where}: pid {entry['pid']} {'running' if alive else 'DOWN'}")
    return 0 if healthy else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Internal steps run in a process of their own by `up` (`create-schemas`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["create-schemas"]:
        create_schemas()
        return 0
    print("usage: python -m ops.prod create-schemas", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
