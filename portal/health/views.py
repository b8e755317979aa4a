import logging
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from redis import Redis
from rq import Queue, Worker

from portal import app_settings, db
from portal.extensions import csrf, limiter
from portal.queue import LAST_SCAN, redis_key
from portal.tenancy import sessionless

bp = Blueprint("health", __name__)
log = logging.getLogger("keepalive.health")

TIMEOUT_SECONDS = 2


def _engine():
    """An engine that gives up connecting quickly, so a load balancer's
    check never hangs on a database that is away. It keeps no connection
    between checks (each check is a new one, closed after it): nothing of it
    is left open when the app goes."""
    engine = current_app.extensions.get("keepalive.health_engine")
    if engine is None:
        url = current_app.config["DATABASE_URL"]
        if url.startswith("sqlite"):
            engine = db.engine()
        else:
            engine = sa.create_engine(
                url, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": TIMEOUT_SECONDS},
            )
        current_app.extensions["keepalive.health_engine"] = engine
    return engine


def _redis():
    connection = current_app.extensions.get("keepalive.health_redis")
    if connection is None:
        connection = Redis.from_url(
            current_app.config["REDIS_URL"],
            socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS,
        )
        current_app.extensions["keepalive.health_redis"] = connection
    return connection


def database_answers():
    try:
        with _engine().connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return True
    except Exception as error:  # noqa: BLE001  (any failure means "not healthy")
        log.warning("health: database check failed (%s)", type(error).__name__)
        return False


def last_scan_time(value):
    """The stored time of the last scan as ISO 8601, or None if absent or unreadable."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.decode() if isinstance(value, bytes) else value).isoformat()
    except (ValueError, UnicodeDecodeError):
        return None


def redis_report():
    """(answers, workers on the app's queue, last scan, networks refusing the app's settings)."""
    connection = _redis()
    try:
        connection.ping()
        queue = Queue(current_app.config["QUEUE_NAME"], connection=connection)
        workers = Worker.count(connection=connection, queue=queue)
        last_scan = last_scan_time(connection.get(redis_key(LAST_SCAN)))
        refused = [{"network": key, "since": value.get("at")}
                   for key, value in sorted(app_settings.refused(connection).items())]
        return True, workers, last_scan, refused
    except Exception as error:  # noqa: BLE001
        log.warning("health: Redis check failed (%s)", type(error).__name__)
        return False, 0, None, []


def graph_api_version():
    """The configured Graph API version, the last day Meta keeps it (None:
    not announced), and whether that day is 30 days away or less."""
    version, ends_on, ending = app_settings.graph_version_status()
    return {"version": version, "available_until": ends_on.isoformat() if ends_on else None, "ending_soon": ending}


@bp.route("/healthz")
@limiter.exempt
@csrf.exempt
@sessionless
def healthz():
    database_ok = database_answers()
    redis_ok, workers, last_scan, refused = redis_report()
    body = {
        "database": "ok" if database_ok else "error",
        "redis": "ok" if redis_ok else "error",
        "workers": workers,
        "last_scan": last_scan,
        # Networks that refused the app's own settings (client secret, plan...):
        # the app is up, but its renewals there fail until someone fixes them.
        "app_settings_refused": refused,
        "graph_api_version": graph_api_version(),
    }
    response = jsonify(body)
    response.status_code = 200 if database_ok and redis_ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
