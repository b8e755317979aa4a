"""The database layer: UTC times, and which requests take SQLite's write lock."""
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask

from portal.db import UTCDateTime, _request_writes, writes


def test_times_are_stored_and_read_in_utc():
    column = UTCDateTime()
    paris = datetime(2026, 11, 22, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    stored = column.process_bind_param(paris, None)
    assert stored == datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc) and stored.tzinfo == timezone.utc
    assert column.process_result_value(datetime(2026, 11, 22, 12, 0), None).tzinfo == timezone.utc
    with pytest.raises(ValueError):
        column.process_bind_param(datetime(2026, 11, 22, 12, 0), None)


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
