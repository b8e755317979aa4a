"""Fixtures shared by every test: an app on a real database (SQLite, and
PostgreSQL when TEST_DATABASE_URL is set), the real Redis, a client, and a
helper to sign in."""
import asyncio
import copy
import email
import email.policy
import hashlib
import os
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx2._transports.default as httpx2_transports
import pytest
import sqlalchemy as sa
from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from jinja2 import BytecodeCache
from redis import Redis
from sqlalchemy.util import LRUCache
from sqlmodel import Session, SQLModel
from werkzeug.routing import Rule

import portal.db
import portal.models  # noqa: F401  (every table on the metadata)
from portal import create_app
from portal.config import database_url
from portal.db import make_engine
from tests import factories
from tests.worker_fleet import PromptCommands

pytest_plugins = ["tests.run_checks"]

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session", autouse=True)
def instance_dir(tmp_path_factory):
    """Development secrets and captured mail of the test run, out of the checkout."""
    path = tmp_path_factory.mktemp("instance")
    os.environ["KEEPALIVE_INSTANCE"] = str(path)
    return path


class CompiledStatements(LRUCache):
    """SQL compiled for one database URL, by whichever engine of it compiled
    it first. SQLAlchemy keys an engine's statements by its dialect, which
    each engine (each test's app) makes anew, alike for the same URL and
    server: the key here leaves the dialect out."""

    def get(self, key, default=None):
        return super().get(key[1:], default)

    def __setitem__(self, key, value):
        super().__setitem__(key[1:], value)


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept in memory (keyed by name and source)."""

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


@pytest.fixture(scope="session", autouse=True)
def made_once_per_run():
    """Every test makes its own app, with the same routes and templates:
    what compiling them costs (most of making an app and of its first
    pages) is paid once per run. Werkzeug's parsing of a route depends only
    on its text and the map's converters (some 60% of making an app); its
    URL builder, only on the route's parts (routes with defaults are left
    alone); a template's code, on its source and on the Jinja settings,
    which are the same for every app. Every HTTP client (the tests', the network
    adapters') verifies TLS with the same default context, which takes some
    20 to 60 ms to build and which nothing changes: it is built once too.
    The engines of one database URL share the SQL they compiled (some 15%
    of a test's time was compiling the same statements again)."""
    made = {}
    compile_builder = Rule._compile_builder

    def once(rule, append_unknown=True):
        if rule.defaults:
            return compile_builder(rule, append_unknown)
        key = (tuple(rule._trace), append_unknown)
        if key not in made:
            made[key] = compile_builder(rule, append_unknown)
        return made[key]

    parsed = {}
    parse_rule = Rule._parse_rule

    def parsed_once(rule, text):
        # What parsing adds to the rule besides its parts (its trace, its
        # arguments and their converters) is kept too, and given again to
        # each later rule of the same text and converters, with converters
        # of its own map.
        key = (text, tuple(rule.map.converters.items()))
        if key in parsed:
            parts, trace, converters = parsed[key]
            rule._trace.extend(trace)
            for name, converter in converters:
                rule._converters[name] = own = copy.copy(converter)
                own.map = rule.map
                rule.arguments.add(name)
            return parts
        traced = len(rule._trace)
        parts = list(parse_rule(rule, text))
        trace = rule._trace[traced:]
        parsed[key] = (parts, trace, [(name, rule._converters[name]) for variable, name in trace if variable])
        return parts

    contexts = {}
    create_ssl_context = httpx2_transports.create_ssl_context

    def same_context(verify=True, cert=None, trust_env=True):
        # Not where the environment names the authorities (a test's own, read each time).
        named = trust_env and (os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"))
        if verify is not True or cert is not None or named:
            return create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)
        if trust_env not in contexts:
            contexts[trust_env] = create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)
        return contexts[trust_env]

    statements = {}
    create_engine = portal.db.create_engine

    def sharing_statements(url, **kwargs):
        engine = create_engine(url, **kwargs)
        engine._compiled_cache = statements.setdefault((str(url), repr(sorted(kwargs.items()))),
                                                       CompiledStatements(5000))
        return engine

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(portal.db, "create_engine", sharing_statements)
        patch.setattr(Rule, "_compile_builder", once)
        patch.setattr(Rule, "_parse_rule", parsed_once)
        patch.setattr(httpx2_transports, "create_ssl_context", same_context)
        patch.setattr(Flask, "jinja_options", {**Flask.jinja_options, "bytecode_cache": CompiledTemplates()})
        yield


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"The tests need Redis at {url} (set TEST_REDIS_URL): {error}")
    return url


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'keepalive.sqlite'}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    yield {"kind": "sqlite", "url": url, "engine": engine}
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_database():
    """A schema of this run's own in the database of TEST_DATABASE_URL. Its
    sessions commit without waiting for the write-ahead log to reach the
    disk (`synchronous_commit=off`): what a commit makes visible, and to
    whom, is the same; only a crash of the server could lose the last ones."""
    schema = f"test_{uuid.uuid4().hex[:10]}"
    base = database_url(os.environ["TEST_DATABASE_URL"])
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    yield {"kind": "postgresql", "url": url, "engine": engine, "schema": schema, "base": base}
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=DATABASES)
def database(request):
    """A database with every table, emptied after each test that used it.

    Each kind is made once per run; tests of both kinds may come in any
    order (`--random-order`) without making them again."""
    return request.getfixturevalue(f"{request.param}_database")


RESTART_SEQUENCES = ("SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE c.relkind = 'S' AND n.nspname = current_schema()")


def empty_database(database):
    """Delete every row; ids start again at 1, on PostgreSQL as on SQLite.
    (DELETE, not TRUNCATE: on a test's few rows it is some forty times faster.)
    PostgreSQL gets the DELETEs and the sequences' restart as one script: a
    round trip for each statement took some 4 ms of every test."""
    tables = reversed(SQLModel.metadata.sorted_tables)
    with database["engine"].begin() as connection:
        if database["kind"] == "postgresql":
            connection.exec_driver_sql("; ".join([*(f'DELETE FROM "{table.name}"' for table in tables),
                                                  RESTART_SEQUENCES]))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture(scope="session")
def keys_of_this_run(redis_url):
    """What every test's Redis names start with in this run (of this
    process): the keys they leave are removed once, when the run ends."""
    run = f"test-{uuid.uuid4().hex[:8]}"
    yield run
    forget_keys({"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": f"{run}-*", "QUEUE_NAME": f"{run}-*",
                 "RATELIMIT_KEY_PREFIX": f"{run}-*"})


@pytest.fixture
def app_config(database, redis_url, keys_of_this_run):
    run = f"{keys_of_this_run}-{uuid.uuid4().hex[:8]}"
    return {
        "TESTING": True,
        "DATABASE_URL": database["url"],
        "REDIS_URL": redis_url,
        "QUEUE_NAME": run,
        "REDIS_KEY_PREFIX": run,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": run,
        "BASE_URL": "http://localhost",
        "PASSWORD_HASH_PROFILE": factories.PASSWORD_HASH_PROFILE,
        # The sandbox network doubles the routes every app compiles: on only
        # where a test asks for it (`with_sandbox`, `sandbox_mounted`).
        "SANDBOX": False,
    }


def with_sandbox(app_config, tmp_path):
    """App settings with the sandbox network on, on a database of its own."""
    return {**app_config, "SANDBOX": True, "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.sqlite'}"}


@pytest.fixture
def sandbox_mounted(app_config, tmp_path):
    """The app as development makes it, with the sandbox network mounted
    (`@pytest.mark.usefixtures("sandbox_mounted")`, asked for before `app`)."""
    app_config.update(with_sandbox(app_config, tmp_path))


@pytest.fixture
def app(app_config, database):
    app = create_app(app_config)
    yield app
    app.extensions["keepalive.engine"].dispose()
    empty_database(database)


def forget_keys(config):
    """Remove the Redis keys of an app (its names may be patterns): its own,
    its queue's and its rate limits'."""
    connection = Redis.from_url(config["REDIS_URL"])
    patterns = [f"{config['REDIS_KEY_PREFIX']}:*", f"rq:*:{config['QUEUE_NAME']}",
                f"LIMITS:LIMITER/{config['RATELIMIT_KEY_PREFIX']}/*"]
    for pattern in patterns:
        keys = list(connection.scan_iter(match=pattern, count=10_000))
        if keys:
            connection.delete(*keys)
    queues = list(connection.sscan_iter("rq:queues", match=f"rq:queue:{config['QUEUE_NAME']}"))
    if queues:
        connection.srem("rq:queues", *queues)
    connection.close()


@pytest.fixture
def session(app):
    """The test's own database session, with no application context pushed.

    A context pushed for the whole test would be reused by every request of
    the test client, so `g` (its database session, its CSRF token) would
    outlive a request. Tests that call code needing a context outside a
    request (jobs, services) take `app_context` as well, or push one around
    those calls. The factories seal tokens with the app's key kept here.
    """
    with Session(app.extensions["keepalive.engine"], expire_on_commit=False,
                 info={"cipher": app.extensions["keepalive.cipher"]}) as session:
        yield session


@pytest.fixture
def app_context(app):
    """An application context for the whole test."""
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client):
    """The CSRF token of this client's session, as its pages would carry it.

    Flask-WTF keeps a raw token in the session and puts it on pages signed
    with the secret key: the same is done here, without rendering a page.
    """
    app = client.application
    field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    with client.session_transaction() as cookie:
        raw = cookie.setdefault(field, hashlib.sha1(os.urandom(64)).hexdigest())
    signer = URLSafeTimedSerializer(app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key, salt="wtf-csrf-token")
    return signer.dumps(raw)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email, password="correct horse battery staple"):
        return self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": csrf_token(self.client)}
        )

    def post(self, path, data=None, **kwargs):
        """POST a form with this session's CSRF token, as the page would."""
        data = dict(data or {})
        data.setdefault("csrf_token", csrf_token(self.client))
        return self.client.post(path, data=data, **kwargs)


@pytest.fixture
def auth(client):
    return Auth(client)


# --- The scheduler: jobs/cron.py loaded as `rq cron` loads it.

CRON_FILE = Path(__file__).resolve().parent.parent / "jobs" / "cron.py"
CRON_MODULE = "rq_cron_config_cron_py"  # the name rq gives a configuration loaded from its path


@pytest.fixture
def cron_scheduler(app, monkeypatch):
    """An RQ cron scheduler with jobs/cron.py loaded for `app` (scans every
    120 s), not started: a test enqueues its due jobs with `enqueue_jobs()`.
    What enqueueing writes outside the app's queue (each cron job's history of
    job ids, RQ's registry of cron jobs) is removed afterwards."""
    import jobs
    from rq import cron
    from rq.cron_job_registry import get_registry_key

    monkeypatch.setitem(app.config, "SCAN_INTERVAL_SECONDS", 120)
    monkeypatch.setattr(jobs, "worker_app", lambda: app)
    monkeypatch.delitem(sys.modules, CRON_MODULE, raising=False)
    connection = Redis.from_url(app.config["REDIS_URL"])
    scheduler = cron.CronScheduler(connection, logging_level="WARNING")
    scheduler.load_config_from_file(str(CRON_FILE))
    sys.modules.pop(CRON_MODULE, None)
    yield scheduler
    for job in scheduler.get_jobs():
        ids = job.get_job_ids(connection)
        if ids:
            connection.zrem(job.job_history_key, *ids)
        if not connection.zcard(job.job_history_key):
            connection.zrem(get_registry_key(), job.name)
    connection.close()


# --- Mail and jobs: a real SMTP server on loopback and an in-process RQ worker.

class ReceivedMail:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


class Mailbox:
    """An SMTP server's behaviour: refuse some recipients with a code, hold
    one message before answering; keep what it accepted. Served on a port of
    its own between `up()` and `down()`: a relay that goes away and comes back."""

    def __init__(self):
        self.port = free_port()
        self.controller = None
        self.messages = []
        self.refuse = {}  # address -> "550 ..." or "451 ..."
        self.hold = None  # an address whose DATA is held until `release` is set
        self.accept_held = False  # then take it, rather than answer "451"
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hold in envelope.rcpt_tos:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            if not self.accept_held:
                return "451 try again later"  # the sender is gone: nothing accepted
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def up(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self):
        """Stop serving: a connection to the port is refused."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mailbox(request, app_config):
    box = Mailbox()
    box.up()
    app_config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=box.port, MAIL_USE_TLS=False,
                      MAIL_USE_SSL=False, MAIL_SUPPRESS_SEND=False, MAIL_TIMEOUT=3.0)
    try:
        request.getfixturevalue("app")
        yield box
    finally:
        box.release.set()
        box.down()


def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(request, app_config):
    """A real SMTP server on 127.0.0.1; the list of `EmailMessage`s it received.

    Flask-Mail reads its settings when the app is created, so this fixture
    points `app_config` at the server before it creates the app; if the test
    asked for the app first, the app's mail is pointed here afterwards. Either
    order of fixtures works.
    """
    from aiosmtpd.controller import Controller

    from portal.extensions import mail

    handler = ReceivedMail()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    # Flask-Mail sends nothing under TESTING unless told to.
    settings = dict(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port,
                    MAIL_USE_TLS=False, MAIL_USE_SSL=False, MAIL_SUPPRESS_SEND=False)
    app_config.update(settings)
    try:
        app = request.getfixturevalue("app")
        if app.config["MAIL_PORT"] != controller.port:
            # The test asked for the app first: point its mail at this server.
            app.config.update(settings)
            mail.init_app(app)
        yield handler.messages
    finally:
        controller.stop()


def run_jobs(app, with_scheduler=False):
    """Run every queued job of `app` in this process (an RQ SimpleWorker in
    burst mode) inside an app context; returns (finished, failed) counts.
    `with_scheduler`: first RQ's scheduler queues the jobs whose time has
    come (a retry's), as a worker's scheduler does."""
    from rq import Queue, SimpleWorker

    class CountingWorker(PromptCommands, SimpleWorker):
        # RQ keeps its own counts in Redis only, and drops them when a burst ends.
        finished = failed = 0

        def handle_job_success(self, *args, **kwargs):
            self.finished += 1
            return super().handle_job_success(*args, **kwargs)

        def handle_job_failure(self, *args, **kwargs):
            self.failed += 1
            return super().handle_job_failure(*args, **kwargs)

    connection = Redis.from_url(app.config["REDIS_URL"])
    queue = Queue(app.config["QUEUE_NAME"], connection=connection)
    worker = CountingWorker([queue], connection=connection)
    with app.app_context():
        worker.work(burst=True, logging_level="WARNING", with_scheduler=with_scheduler)
    connection.close()
    return worker.finished, worker.failed


def scheduled_now(app):
    """Move the jobs of `app`'s queue that wait for a later time (a retry, a
    second look) back to the queue at once, as if that time had come; they
    are returned with the times they were scheduled for, soonest first."""
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    connection = Redis.from_url(app.config["REDIS_URL"])
    queue = Queue(app.config["QUEUE_NAME"], connection=connection)
    registry = ScheduledJobRegistry(queue=queue)
    moved = []
    for job_id in registry.get_job_ids():
        job = queue.fetch_job(job_id)
        moved.append((job, registry.get_scheduled_time(job_id)))
        registry.remove(job)
        queue.enqueue_job(job)
    return sorted(moved, key=lambda pair: pair[1])


# --- A Redis that goes away and comes back.

class RestartableRedis:
    """A redis-server of the test's own on a free loopback port: `stop` shuts
    it down (saving its data, as a Redis with persistence does) and nothing
    listens there; `start` brings it back on the same port with that data."""

    def __init__(self, directory):
        self.directory, self.port, self.child = directory, free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        from devkit.run import redis_answers, redis_server_binary, redis_server_command, start

        command = redis_server_command(redis_server_binary(), self.port) + ["--dir", str(self.directory)]
        self.child = start("redis", command)
        deadline = time.monotonic() + 10
        while not redis_answers(self.url, timeout=0.5):
            assert self.child.running and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self):
        from devkit.run import stop

        Redis.from_url(self.url).shutdown(save=True)
        stop(self.child)


@pytest.fixture
def restartable_redis(request, app_config, tmp_path):
    """The app's Redis (queue, sessions, rate limits) is a `RestartableRedis`:
    ask for it before the app."""
    server = RestartableRedis(tmp_path)
    server.start()
    app_config.update(REDIS_URL=server.url, RATELIMIT_STORAGE_URI=server.url)
    try:
        assert request.getfixturevalue("app").config["REDIS_URL"] == server.url, "the app was made before"
        yield server
    finally:
        if server.child.running:
            server.stop()
