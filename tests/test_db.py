"""The database layer: UTC times, SQLite's settings, which requests take
SQLite's write lock, and who may read a SQLite file."""
import os
import stat
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask import Flask

from portal.db import UTCDateTime, _request_writes, make_engine, writes


def test_times_are_stored_and_read_in_utc():
    column = UTCDateTime()
    paris = datetime(2026, 11, 22, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    stored = column.process_bind_param(paris, None)
    assert stored == datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc) and stored.tzinfo == timezone.utc
    assert column.process_result_value(datetime(2026, 11, 22, 12, 0), None).tzinfo == timezone.utc
    with pytest.raises(ValueError):
        column.process_bind_param(datetime(2026, 11, 22, 12, 0), None)


def test_sqlite_logs_ahead_syncs_at_checkpoints_and_checks_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'settings.sqlite'}")
    with engine.connect() as connection:
        settings = [connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "synchronous", "foreign_keys")]
    engine.dispose()
    assert settings == ["wal", 1, 1]  # synchronous 1: NORMAL


def test_writing_requests_are_posts_and_marked_gets():
    app = Flask(__name__)

    @app.route("/read")
    def read():
        return ""

    @app.route("/callback")
    @writes
    def callback():
        return ""

    for method, path, expected in [("GET", "/read", False), ("POST", "/read", True), ("GET", "/callback", True)]:
        with app.test_request_context(path, method=method):
            assert _request_writes() is expected, (method, path)


def test_a_new_sqlite_file_is_readable_by_its_owner_only(tmp_path):
    """It holds sealed tokens and password hashes: no other account of the machine reads it."""
    path = tmp_path / "keepalive.sqlite"
    old_umask = os.umask(0o022)  # the usual: files readable by everyone
    try:
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            connection.execute(sa.text("INSERT INTO t VALUES (1)"))
            wal = tmp_path / "keepalive.sqlite-wal"
            assert wal.exists()
            assert stat.S_IMODE(wal.stat().st_mode) == 0o600
        engine.dispose()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_columns_read_past_the_orm_see_what_the_session_holds_unwritten(app, app_context, database):
    """`columns_of` reads on the session's connection, as the ORM would: a
    row added but not flushed yet is in its answer."""
    from sqlmodel import select

    from portal.db import columns_of, get_session
    from portal.models import Organization

    get_session().add(Organization(name="Added, not flushed"))
    assert columns_of(select(Organization.name), {}) == [("Added, not flushed",)]
