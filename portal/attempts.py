"""Attempts counted in Redis (Flask-Limiter's storage, RATELIMIT_STORAGE_URI)
before the attempt is made.

One atomic increment first, then the check: that holds under parallel
requests, where counting after the attempt lets every attempt in flight through.
A storage that does not answer raises (nothing swallows it, nothing counts in
this process instead: `portal.config`), and the attempt is refused with a 503
(`portal.unavailable`): a limit never vanishes while Redis is away.
"""
import math
import time

from flask import current_app
from limits import parse

from portal.extensions import limiter


def _counter(limit, key):
    # The app's own prefix is named here because the shared limiter keeps the
    # prefix of the first app it was bound to; this keeps apps (and tests) apart.
    return parse(limit), (current_app.config.get("RATELIMIT_KEY_PREFIX", ""), *key)


def count(limit, *key):
    """Count one attempt of `key` against `limit` ("10 per minute"): 0 if it
    may go on, else the seconds until the count starts again."""
    item, identifiers = _counter(limit, key)
    if limiter.limiter.hit(item, *identifiers):
        return 0
    return _seconds_left(item, identifiers)


def wait(limit, *key):
    """Like `count`, counting nothing: 0 if `key` has attempts left under `limit`."""
    item, identifiers = _counter(limit, key)
    if limiter.limiter.test(item, *identifiers):
        return 0
    return _seconds_left(item, identifiers)


def _seconds_left(item, identifiers):
    reset_at = limiter.limiter.get_window_stats(item, *identifiers).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def give_back(limit, *key):
    """Take back an attempt `count` counted (one that turned out to be legitimate)."""
    item, identifiers = _counter(limit, key)
    limiter.storage.incr(item.key_for(*identifiers), item.get_expiry(), amount=-1)
