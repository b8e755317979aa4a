"""The job queue: RQ on Redis. Views enqueue; workers do the work."""
from flask import current_app
from redis import Redis
from rq import Queue


def init_app(app):
    app.extensions["keepalive.redis"] = Redis.from_url(
        app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2
    )


def redis():
    return current_app.extensions["keepalive.redis"]


def queue(is_async=True):
    """The portal's queue; `is_async=False`: one whose jobs RQ runs at once,
    in this process (a command that runs a job now)."""
    return Queue(current_app.config["QUEUE_NAME"], connection=redis(), is_async=is_async)


def enqueue(func, *args, **kwargs):
    """Enqueue `func(*args)`; arguments are ids and plain values, never ORM objects."""
    return queue().enqueue(func, *args, **kwargs)
