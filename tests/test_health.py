"""`/healthz`: 200 when the database and Redis answer, 503 otherwise; JSON
either way, with the number of RQ workers on the app's queue."""
import subprocess
import sys
import time
from datetime import UTC, date, datetime

import pytest
from redis import Redis
from rq import Queue, Worker

from devkit.run import ROOT, free_port
from portal import create_app
from portal.health.views import last_scan_time
from portal.queue import LAST_SCAN, redis_key
from tests.conftest import forget_keys


def workers_on(redis_url, queue_name):
    connection = Redis.from_url(redis_url)
    return Worker.count(connection=connection, queue=Queue(queue_name, connection=connection))


@pytest.fixture
def rq_worker(app, redis_url):
    """A real `rq worker` on the app's (unique) queue, registered on Redis."""
    queue_name = app.config["QUEUE_NAME"]
    process = subprocess.Popen(
        [sys.executable, "-m", "rq.cli", "worker", "--url", redis_url, queue_name],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while workers_on(redis_url, queue_name) < 1:
        assert process.poll() is None, "rq worker exited"
        assert time.monotonic() < deadline, "rq worker did not register"
        time.sleep(0.05)
    yield process
    process.terminate()
    process.wait(15)


def health_engine_disposed(app):
    engine = app.extensions.get("keepalive.health_engine")
    if engine is not None and engine is not app.extensions["keepalive.engine"]:
        engine.dispose()


@pytest.mark.slow
def test_healthy_with_a_worker_registered(app, client, rq_worker, redis_url):
    redis = Redis.from_url(redis_url)
    redis.set(f"{app.config['REDIS_KEY_PREFIX']}:last_scan", "2026-11-22T01:30:00+00:00")
    try:
        response = client.get("/healthz")
    finally:
        health_engine_disposed(app)
    assert response.status_code == 200
    assert response.get_json() == {
        "database": "ok", "redis": "ok", "workers": 1, "last_scan": "2026-11-22T01:30:00+00:00",
        "app_settings_refused": [],
        "graph_api_version": {"version": "v26.0", "available_until": None, "ending_soon": False},
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_no_worker_is_still_healthy_but_counted(app, client):
    response = client.get("/healthz")
    health_engine_disposed(app)
    assert response.status_code == 200
    assert response.get_json()["workers"] == 0
    assert response.get_json()["last_scan"] is None


def test_the_last_scan_of_another_deployment_on_the_same_redis_is_not_shown(app, app_config, client):
    other = create_app({**app_config, "REDIS_KEY_PREFIX": f"other-{app_config['REDIS_KEY_PREFIX']}"})
    with other.app_context():
        scan_time = "2026-11-22T01:30:00+00:00"
        other.extensions["keepalive.redis"].set(redis_key(LAST_SCAN), scan_time)
    try:
        assert other.test_client().get("/healthz").get_json()["last_scan"] == scan_time
        assert client.get("/healthz").get_json()["last_scan"] is None
    finally:
        forget_keys(other.config)
        health_engine_disposed(other)
        health_engine_disposed(app)
        other.extensions["keepalive.engine"].dispose()


def test_unreachable_redis_is_503(app, app_config):
    broken = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
                         "RATELIMIT_STORAGE_URI": "memory://"})
    started = time.monotonic()
    response = broken.test_client().get("/healthz")
    health_engine_disposed(broken)
    broken.extensions["keepalive.engine"].dispose()
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.get_json() == {"database": "ok", "redis": "error", "workers": 0, "last_scan": None,
                                   "app_settings_refused": [],
                                   "graph_api_version": {"version": "v26.0", "available_until": None,
                                                         "ending_soon": False}}


def test_unreachable_database_is_503_without_a_trace(app, app_config, tmp_path, database):
    if database["kind"] == "sqlite":
        url = f"sqlite:///{tmp_path / 'missing' / 'nowhere.sqlite'}"
    else:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    broken = create_app({**app_config, "DATABASE_URL": url})
    response = broken.test_client().get("/healthz")
    health_engine_disposed(broken)
    broken.extensions["keepalive.engine"].dispose()
    assert response.status_code == 503
    assert response.get_json()["database"] == "error"
    assert response.get_json()["redis"] == "ok"
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("stored, shown", [
    (None, None),
    (b"2026-11-22T01:30:00+00:00", "2026-11-22T01:30:00+00:00"),
    (b"yesterday", None),
    (b"\xff\xfe", None),
])
def test_last_scan_is_an_iso_time_or_null(stored, shown):
    assert last_scan_time(stored) == shown


def test_networks_that_refused_the_apps_settings_are_listed_with_their_time(app, client):
    from portal import app_settings

    with app.app_context():
        app_settings.report("x", "X: unauthorized_client Missing valid authorization header")
        app_settings.report("facebook", "Meta error 1: Error validating client secret.")
    response = client.get("/healthz")
    health_engine_disposed(app)
    assert response.status_code == 200  # the app is up: its renewals there fail
    refused = response.get_json()["app_settings_refused"]
    assert [entry["network"] for entry in refused] == ["facebook", "x"]
    assert all(entry["since"] for entry in refused)
    assert "secret" not in response.get_data(as_text=True)  # what the network said stays in the log
    with app.app_context():
        app_settings.accepted("x")
    assert [e["network"] for e in client.get("/healthz").get_json()["app_settings_refused"]] == ["facebook"]
    health_engine_disposed(app)


@pytest.mark.parametrize("version, ends_on, ending_soon", [
    ("v25.0", "2028-07-29", False),
    ("v21.0", "2027-01-21", True),  # 48 days on 2026-12-04, then 30 from 2026-12-22
    ("v20.0", "2026-09-24", True),  # ended
    ("v99.0", None, False),  # not in Meta's table: nothing known
])
def test_the_graph_api_version_and_its_end(app, client, monkeypatch, version, ends_on, ending_soon):
    from portal import app_settings
    from portal.networks.meta_graph import graph_version_end

    app.config["GRAPH_API_VERSION"] = version
    today = date(2027, 1, 1) if version == "v21.0" else date(2026, 12, 4)
    monkeypatch.setattr(app_settings, "utcnow", lambda: datetime(today.year, today.month, today.day, tzinfo=UTC))
    body = client.get("/healthz").get_json()
    health_engine_disposed(app)
    assert body["graph_api_version"] == {"version": version, "available_until": ends_on, "ending_soon": ending_soon}
    assert graph_version_end(version) == (date.fromisoformat(ends_on) if ends_on else None)
