"""What Keepalive answers while Redis does not: it holds the sessions, the
sign-in limits, the API's rate limits and the queue, so without it nobody
can be recognised, no attempt counted and no job queued.

Every request that meets it refused answers 503 with `Retry-After`, never a
500: a page in the layout (nobody is signed in on it: who is signed in is in
Redis; in the language the session cookie keeps, `portal.auth`), an htmx
request a redirect to the page it came from (which then says so), the token
API its problem, `/healthz` and JSON clients JSON. Nothing is let through
uncounted: a sign-in, a reset or a sign-up that cannot be counted is refused
too. One line at WARNING says so; there is no traceback to read.
"""
import logging

from flask import g, jsonify, render_template, request, url_for
from flask_login import AnonymousUserMixin
from htmx_flask import make_response as htmx_response
from redis.exceptions import ConnectionError, TimeoutError
from werkzeug.urls import iri_to_uri

from portal.api import problems
from portal.db import close_session
from portal.web import htmx_page

# What redis-py (under RQ and the rate limiter too) raises when Redis does
# not answer; BusyLoadingError (a Redis still loading its data) is a ConnectionError.
REDIS_AWAY = (ConnectionError, TimeoutError)
RETRY_AFTER_SECONDS = 60
STATUS = 503

log = logging.getLogger("keepalive")


def init_app(app):
    for error in REDIS_AWAY:
        app.register_error_handler(error, answer)


def answer(error):
    """The request's 503, whatever it was doing when Redis did not answer."""
    log.warning("Redis is not answering (%s: %s): %s %s answered %d", type(error).__name__, error,
                request.method, request.endpoint, STATUS)
    close_session()  # roll back whatever the request left half done
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith(problems.API_PREFIX):
        return problems.response("temporarily-unavailable", "Try again in a minute (`Retry-After`).", headers=headers)
    if request.path.startswith("/healthz") or request.accept_mimetypes.best == "application/json":
        return jsonify(error="unavailable"), STATUS, headers
    if request.htmx:
        return htmx_answer(headers)
    g._login_user = AnonymousUserMixin()  # the page asks Redis for nobody
    return render_template("error.html", status=STATUS, message_key="unavailable"), STATUS, headers


def htmx_answer(headers):
    """A fragment would say nothing where it lands: the browser goes to the
    page it is on, which answers with this page in full."""
    response = htmx_response("", STATUS, redirect=iri_to_uri(htmx_page(url_for("home.index"))))
    response.headers.update(headers)
    response.vary.add("HX-Request")
    return response
