"""How many requests an API key may make: API_REQUESTS_PER_MINUTE, in
windows of a minute, counted in Redis so that every process shares the count.

A process does not ask Redis on every request: it takes a few requests of
the window at once (a lease, one atomic INCRBY) and spends them itself. The
count in Redis is of requests leased, so a key never gets more than its limit
over all processes; a lease a process has not spent when the window ends is
lost, so with several processes a key may be refused up to a lease per
process early. A lease is a sixtieth of the limit (a second's worth), at most
LEASE_MAX: a key allowed 600 a minute asks Redis once every 10 requests.
"""
import math
import threading
import time

from portal.queue import redis, redis_key

WINDOW_SECONDS = 60
LEASE_MAX = 20

_leases = {}  # the key's counter name -> [window, requests left]
_lock = threading.Lock()


def lease_size(per_minute):
    return max(1, min(per_minute // WINDOW_SECONDS, LEASE_MAX))


def take(key_id, per_minute, now=None):
    """Count one request of `key_id`: 0 if it may go on, else the seconds
    until its next window."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    name = redis_key(f"api-requests:{key_id}")  # under this deployment's (and test app's) prefix
    with _lock:
        lease = _leases.get(name)
        if lease is not None and lease[0] == window and lease[1] > 0:
            lease[1] -= 1
            return 0
    wanted = lease_size(per_minute)
    counter = f"{name}:{window}"
    with redis().pipeline() as pipe:
        pipe.incrby(counter, wanted)
        pipe.expire(counter, WINDOW_SECONDS * 2)
        total, _ = pipe.execute()
    granted = min(wanted, per_minute - (total - wanted))
    if granted <= 0:
        return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    with _lock:
        _leases[name] = [window, granted - 1]
    return 0
