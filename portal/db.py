"""The database: one engine per app, one session per request kept on `g`."""
import os
from contextlib import contextmanager
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request
from sqlalchemy import event, select, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, create_engine


def utcnow():
    return datetime.now(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always read back time-zone aware.

    SQLite keeps no zone; PostgreSQL keeps `timestamptz`. Either way the
    application only ever sees aware UTC datetimes, so comparisons with
    `utcnow()` are safe.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class earliest(FunctionElement):
    """The earlier of two moments, either of which may be NULL (NULL only
    when both are): `LEAST` on PostgreSQL, which leaves NULLs out; SQLite's
    two-argument `min` is NULL as soon as one is, so it falls back on
    whichever is not."""

    inherit_cache = True
    type = UTCDateTime()


@compiles(earliest)
def _least(element, compiler, **kw):
    return "LEAST(%s)" % compiler.process(element.clauses, **kw)


@compiles(earliest, "sqlite")
def _sqlite_earliest(element, compiler, **kw):
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"coalesce(min({first}, {second}), {first}, {second})"


# Values of one IN list at most: SQLite bounds the parameters of a statement.
IN_CHUNK = 500


def keys_in_ranges(key, *ranges):
    """`key` of every row that meets all the conditions of one of `ranges`,
    as `SELECT key WHERE ... UNION SELECT key WHERE ...`: each range is
    planned on its own and read from its own index. Under one OR, the planner
    weighs the branches together and may read a whole index instead."""
    return union(*(select(key).where(*conditions) for conditions in ranges))


def rows_by_key(session, statement, key, values):
    """The rows of `statement` whose `key` is one of `values`, read in chunks.

    A list of values is planned as what it is. A subquery in its place is
    planned by PostgreSQL on a guess of its size, from statistics that know
    nothing of how columns go together, and may then be joined by reading a
    whole table."""
    rows = []
    for start in range(0, len(values), IN_CHUNK):
        rows += session.exec(statement.where(key.in_(values[start:start + IN_CHUNK]))).all()
    return rows


def make_engine(url):
    if url.startswith("sqlite"):
        _create_private(sa.engine.make_url(url).database)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # The driver's own transaction handling is switched off so that
            # SQLAlchemy emits BEGIN itself (SQLAlchemy's documented recipe),
            # which lets a caller ask for BEGIN IMMEDIATE: see `locked_session`.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, a commit is not synced to disk, only each checkpoint:
            # a power cut may lose the last commits, never corrupt the file.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            mode = connection.get_execution_options().get("sqlite_begin", "")
            connection.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    return create_engine(url, pool_pre_ping=True)


def _create_private(path):
    """Create the SQLite file readable by its owner only (it holds sealed tokens and
    password hashes); SQLite gives its -wal and -shm files the same mode."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        # Never open an existing file: closing any descriptor of a database file
        # drops the locks SQLite's own connections in this process hold on it.
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError:
        pass  # it exists; or it cannot be made, which SQLite says when it connects


def init_app(app):
    app.extensions["keepalive.engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_session)


def engine():
    return current_app.extensions["keepalive.engine"]


def get_session(writes=False):
    """The session of this request or job, opened on first use; `writes` asks
    a job that reads then writes (outside a request) for the same lock.

    A request that may write (any method but GET, HEAD, OPTIONS) takes
    SQLite's write lock when its transaction begins: a transaction that read
    first and writes later could otherwise fail outright when another writer
    committed in between (SQLite cannot upgrade a stale read snapshot)."""
    if "db" not in g:
        bind = engine()
        if writes or (has_request_context() and _request_writes()):
            bind = bind.execution_options(sqlite_begin="IMMEDIATE")
        g.db = Session(bind, expire_on_commit=False)
    return g.db


def columns_of(statement, values):
    """The rows of a SELECT of columns only, on the session's connection (in
    its transaction, what it holds unwritten flushed first, as the ORM
    would): the ORM's loading, with no entity to build, would only add its
    cost, which a page's lists feel."""
    session = get_session()
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, values).all()


def writes(view):
    """Mark a GET view that writes (an OAuth callback), so that its
    transaction takes the write lock as a POST's does."""
    view.writes_to_database = True
    return view


def _request_writes():
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        return True
    view = current_app.view_functions.get(request.endpoint)
    return getattr(view, "writes_to_database", False)


def close_session(_exc=None):
    session = g.pop("db", None)
    if session is not None:
        session.close()


@contextmanager
def new_session():
    """A session of its own, for work that must commit apart from the request's."""
    with Session(engine(), expire_on_commit=False) as session:
        yield session


@contextmanager
def locked_session():
    """A session whose transaction serializes with other writers before it
    reads: SQLite takes its write lock at BEGIN (IMMEDIATE); on PostgreSQL the
    caller adds `with_for_update()` to lock the rows it reads. Either way the
    lock lasts until the session commits or rolls back."""
    with engine().connect().execution_options(sqlite_begin="IMMEDIATE") as connection:
        with Session(bind=connection, expire_on_commit=False) as session:
            yield session
