"""Pages kept as rendered while nothing they show can have changed.

Manage Accounts and the "Expired Tokens" dropdown are read far more often than
what they show changes. A view marked `kept` keeps its rendered answer in the
process that rendered it, under:

- the database's *generation*: a random token in Redis that is replaced after
  every commit that wrote to a table a kept page may read (`watch_writes`, on
  the engine of every process: web, workers, scheduler, commands);
- everything else the page depends on: the user, membership, organization and
  brand, the language and time zone, the URL and the htmx headers;
- a time: the view says when its content changes with time alone (a token
  entering the window, a day left less, `keep_until`), and nothing is kept
  longer than `PAGE_CACHE_SECONDS`, which also bounds how long a write made
  outside the application (by hand in `psql`) goes unseen.

The CSRF token of the rendering is replaced by the request's own when a kept
answer is served, and values a view writes with `stand_in` are filled in for
each request. Without Redis, or with `PAGE_CACHE_SECONDS = 0`, every request
renders, and so does a page with a flashed message to show.
"""
import hashlib
import logging
import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from flask import current_app, g, make_response, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import escape
from redis.exceptions import RedisError
from sqlalchemy import event

from portal.db import utcnow
from portal.queue import redis

log = logging.getLogger("keepalive.pagecache")

# What a page shows from the session besides who is signed in: whether the
# warning after sign-in is still to come (`portal.notifications.login_warning`).
SESSION_SHOWN = ("login_warning",)
# Written only by the workers that deliver notices; no kept page reads them.
UNSEEN_TABLES = frozenset({"delivery", "webhook_delivery", "notification"})
WRITE = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
# The headers an htmx request varies a page by (`portal.web.wants_fragment`).
HTMX_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")
STAND_IN = "keepalive-stand-in-{}"
# What one process keeps at most, in bytes of HTML.
BUDGET = 32 * 1024 * 1024


def init_app(app):
    app.extensions["keepalive.pages"] = Pages(BUDGET)
    app.extensions["keepalive.pages.generation"] = key = generation_key(app.config["DATABASE_URL"])
    watch_writes(app.extensions["keepalive.engine"], key, app.extensions["keepalive.redis"])


def generation_key(database_url):
    # One generation per database: the tests, the demo and the benchmark may share a Redis.
    return "keepalive:pages:{}:generation".format(hashlib.sha256(database_url.encode()).hexdigest()[:16])


def watch_writes(engine, key, redis_client):
    """Replace the generation after each commit that wrote to a table a kept
    page may read. The new generation is set once the commit is done (when
    the connection goes back to the pool): set before, a page read in
    between would be kept, stale, under the new one."""

    @event.listens_for(engine, "after_cursor_execute")
    def note_write(connection, _cursor, statement, _parameters, _context, _executemany):
        write = WRITE.match(statement)
        if write and write.group(1).lower() not in UNSEEN_TABLES:
            connection.info["pages_changed"] = True

    @event.listens_for(engine, "rollback")
    def forget_writes(connection):
        connection.info.pop("pages_changed", None)

    @event.listens_for(engine, "commit")
    def committing(connection):
        if connection.info.pop("pages_changed", False):
            connection.info["pages_committed"] = True

    @event.listens_for(engine, "checkin")
    def committed(_dbapi_connection, record):
        if record.info.pop("pages_committed", False):
            try:
                redis_client.set(key, uuid.uuid4().hex)
            except RedisError:
                log.warning("pages kept elsewhere may show what this commit changed for up to PAGE_CACHE_SECONDS")


def current_generation():
    """The generation now, or None when Redis cannot say (nothing is kept then)."""
    key = current_app.extensions["keepalive.pages.generation"]
    try:
        generation = redis().get(key)
        if generation is None:
            redis().set(key, uuid.uuid4().hex, nx=True)
            generation = redis().get(key)
    except RedisError:
        return None
    return generation


@dataclass
class Kept:
    body: bytes  # as sent: the work of encoding is done once
    mimetype: str
    csrf_token: bytes | None
    rendered_at: object
    until: object


class Pages:
    """Rendered pages by key, the least recently served dropped first once
    they weigh more than `budget` bytes."""

    def __init__(self, budget):
        self.budget = budget
        self.size = 0
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            kept = self.entries.get(key)
            if kept is not None:
                self.entries.move_to_end(key)
            return kept

    def put(self, key, kept):
        with self.lock:
            previous = self.entries.pop(key, None)
            if previous is not None:
                self.size -= len(previous.body)
            self.entries[key] = kept
            self.size += len(kept.body)
            while self.size > self.budget and self.entries:
                _, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped.body)


def keep_until(moment):
    """Tell the kept view rendering now that its content changes with time at
    `moment` (None: not with time)."""
    if moment is not None and "page_kept_until" in g:
        g.page_kept_until = min(g.page_kept_until, moment)


def stand_in(name):
    """What a kept view writes in place of the value `name` of its `kept`
    declaration; each request's own value replaces it when served."""
    return STAND_IN.format(name)


def kept(**request_values):
    """Keep the view's answers (see the module's text). `request_values`:
    {name: function giving this request's value} for each `stand_in(name)`
    the view writes."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            values = {stand_in(name).encode(): str(escape(value())).encode()
                      for name, value in request_values.items()}
            pages = current_app.extensions["keepalive.pages"]
            seconds = current_app.config["PAGE_CACHE_SECONDS"]
            generation = current_generation() if seconds > 0 and not flashes_pending() else None
            if generation is None:
                return filled(view(*args, **kwargs), values)
            key = page_key(generation)
            now = utcnow()
            page = pages.get(key)
            if page is not None and page.rendered_at <= now < page.until:
                return served(page, values)
            g.page_kept_until = now + timedelta(seconds=seconds)
            response = view(*args, **kwargs)
            if response.status_code == 200 and not response.direct_passthrough:
                token = g.get("csrf_token")
                pages.put(key, Kept(response.get_data(), response.mimetype, token and token.encode(),
                                    now, g.page_kept_until))
            return filled(response, values)

        return wrapped

    return decorate


def flashes_pending():
    return bool(session.get("_flashes"))


def page_key(generation):
    return (
        generation,
        current_user.get_id(),
        g.membership.id,
        g.organization.id,
        g.brand.id if g.brand else None,
        str(get_locale()),
        str(get_timezone()),
        request.full_path,
        *(bool(session.get(name)) for name in SESSION_SHOWN),
        *(request.headers.get(name) for name in HTMX_HEADERS),
    )


def filled(response, values):
    if values and response.status_code == 200:
        body = response.get_data()
        for placeholder, value in values.items():
            body = body.replace(placeholder, value)
        response.set_data(body)
    return response


def served(page, values):
    body = page.body
    if page.csrf_token:
        body = body.replace(page.csrf_token, generate_csrf().encode())
    for placeholder, value in values.items():
        body = body.replace(placeholder, value)
    response = make_response(body)
    response.mimetype = page.mimetype
    response.vary.add("HX-Request")
    return response
