"""Fixtures shared by every test: an app on a real database (SQLite, and
PostgreSQL when TEST_DATABASE_URL is set), the real Redis, a client, and a
helper to sign in."""
import os
import re
import uuid

import pytest
import sqlalchemy as sa
from redis import Redis
from sqlmodel import Session, SQLModel

import portal.models  # noqa: F401  (every table on the metadata)
from portal import create_app
from portal.config import database_url
from portal.db import make_engine

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session", autouse=True)
def instance_dir(tmp_path_factory):
    """Development secrets and captured mail of the test run, out of the checkout."""
    path = tmp_path_factory.mktemp("instance")
    os.environ["KEEPALIVE_INSTANCE"] = str(path)
    return path


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"The tests need Redis at {url} (set TEST_REDIS_URL): {error}")
    return url


@pytest.fixture(scope="session", params=DATABASES)
def database(request, tmp_path_factory):
    """A database with every table, emptied after each test that used it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'keepalive.sqlite'}"
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        yield {"kind": "sqlite", "url": url, "engine": engine}
        engine.dispose()
        return
    schema = f"test_{uuid.uuid4().hex[:10]}"
    base = database_url(os.environ["TEST_DATABASE_URL"])
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    yield {"kind": "postgresql", "url": url, "engine": engine, "schema": schema, "base": base}
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def empty_database(database):
    tables = SQLModel.metadata.sorted_tables
    with database["engine"].begin() as connection:
        if database["kind"] == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(table.delete())


@pytest.fixture
def app_config(database, redis_url):
    run = uuid.uuid4().hex[:12]
    return {
        "TESTING": True,
        "DATABASE_URL": database["url"],
        "REDIS_URL": redis_url,
        "QUEUE_NAME": f"test-{run}",
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"test-{run}",
        "BASE_URL": "http://localhost",
    }


@pytest.fixture
def app(app_config, database):
    app = create_app(app_config)
    yield app
    app.extensions["keepalive.engine"].dispose()
    empty_database(database)


@pytest.fixture
def db(app):
    """A session of the test's own, inside an app context."""
    with app.app_context():
        with Session(app.extensions["keepalive.engine"], expire_on_commit=False) as session:
            yield session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client, path="/login"):
    """The CSRF token a page of `path` carries for this client's session."""
    response = client.get(path)
    match = CSRF_META.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email, password="correct horse battery staple"):
        token = csrf_token(self.client)
        return self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )

    def post(self, path, data=None, **kwargs):
        """POST a form with this session's CSRF token, as the page would."""
        data = dict(data or {})
        data.setdefault("csrf_token", csrf_token(self.client, kwargs.pop("token_from", "/login")))
        return self.client.post(path, data=data, **kwargs)


@pytest.fixture
def auth(client):
    return Auth(client)


# --- Mail and jobs: a real SMTP server on loopback and an in-process RQ worker.

class ReceivedMail:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


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


def run_jobs(app):
    """Run every queued job of `app` in this process (an RQ SimpleWorker in
    burst mode) inside an app context; returns (finished, failed) counts."""
    from rq import Queue, SimpleWorker

    class CountingWorker(SimpleWorker):
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
        worker.work(burst=True, logging_level="WARNING")
    connection.close()
    return worker.finished, worker.failed


@pytest.fixture
def store(app):
    """A database session with no app context held open.

    While `db` keeps an app context pushed, every request of the test client
    reuses it, so `g` (its database session, its cached CSRF token) outlives
    a request. Tests that make several requests in a row, across sign-in and
    sign-out, use this instead: each request then gets its own context, as in
    production.
    """
    with Session(app.extensions["keepalive.engine"], expire_on_commit=False) as session:
        yield session
