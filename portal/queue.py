"""The job queue: RQ on Redis. Views enqueue; workers do the work."""
from flask import current_app
from redis import Redis
from redis.commands.core import Script
from rq import Queue

from portal.config import REDIS_TIMEOUTS


def init_app(app):
    app.extensions["keepalive.redis"] = Redis.from_url(app.config["REDIS_URL"], **REDIS_TIMEOUTS)


def lua(source):
    """A Lua script run on the current app's Redis in one round trip:
    `lua(SOURCE)(keys=[...], args=[...])`. Made once, at import; Redis is sent
    the script itself only when it does not know it yet (EVALSHA, then a load)."""
    script = Script(None, source.encode())  # bytes: its digest needs no client's encoder

    def run(keys, args):
        return script(keys=keys, args=args, client=redis())

    return run


def redis():
    return current_app.extensions["keepalive.redis"]


# When the scan last ran: written by `jobs.scan`, read by /healthz.
LAST_SCAN = "last_scan"


def redis_key(name):
    """This deployment's Redis key `name`, under the `REDIS_KEY_PREFIX`
    setting: two deployments (or test runs) sharing a Redis never meet."""
    return f"{current_app.config['REDIS_KEY_PREFIX']}:{name}"


def queue(is_async=True):
    """The portal's queue; `is_async=False`: one whose jobs RQ runs at once,
    in this process (a command that runs a job now)."""
    return Queue(current_app.config["QUEUE_NAME"], connection=redis(), is_async=is_async)


def enqueue(func, *args, **kwargs):
    """Enqueue `func(*args)`; arguments are ids and plain values, never ORM objects."""
    return queue().enqueue(func, *args, **kwargs)
