"""While Redis (sessions, sign-in limits, the queue) does not answer: a 503
with Retry-After, in the layout and the person's language, never a 500;
nothing let through uncounted; and the same browser goes on once Redis is back."""
import logging
import secrets
import socket

import pytest
from flask_babel import force_locale, gettext
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from sqlmodel import select

import portal.queue
from portal import create_app
from portal.config import REDIS_TIMEOUTS
from portal.auth import invitations as member_invitations
from portal.connect import invitations as connect_invitations
from portal.extensions import limiter
from portal.links import service as links
from portal.links.rules import Purpose
from portal.models import AuditEvent, ConnectInvitation, Invitation, RenewalLink
from tests import factories
from tests.conftest import Auth, free_port
from tests.test_error_pages import card
from tests.test_signup import FORM

TITLE = "Keepalive is unavailable for a moment"
MESSAGE = "Try again in a minute. If it lasts, tell whoever runs Keepalive for your agency."


def in_language(app, text, language):
    with app.test_request_context(), force_locale(language):
        return gettext(text)


def warnings_of(caplog):
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


@pytest.fixture
def signed_in(restartable_redis, client, auth, session):
    factories.agency(session, people={"owner": {"role": "owner", "locale": "fr"}})
    auth.login("owner@example.test")
    assert client.get("/accounts").status_code == 200
    return client


@pytest.mark.slow  # a redis-server of the test's own, stopped and started
def test_a_signed_in_page_says_so_in_the_persons_language_and_works_again_once_redis_is_back(
        restartable_redis, app, signed_in, caplog):
    restartable_redis.stop()
    caplog.clear()
    page = signed_in.get("/accounts")
    assert page.status_code == 503 and page.headers["Retry-After"] == "60"
    assert '<html lang="fr">' in page.get_data(as_text=True)
    title, message = in_language(app, TITLE, "fr"), in_language(app, MESSAGE, "fr")
    assert (title, message) != (TITLE, MESSAGE)
    assert card(page)[:3] == ["503", title, message]
    with signed_in.get("/static/css/keepalive.css") as stylesheet:  # the page's own
        assert stylesheet.status_code == 200
    [line] = warnings_of(caplog)
    assert line.getMessage().startswith("Redis is not answering (ConnectionError: ")
    assert line.getMessage().endswith("GET accounts.index answered 503") and line.exc_info is None

    refused_form = signed_in.post("/settings/language", data={"locale": "de"})  # no CSRF token: found first
    assert refused_form.status_code == 503 and card(refused_form)[1] == title
    as_json = signed_in.get("/accounts", headers={"Accept": "application/json"})
    assert (as_json.status_code, as_json.get_json()) == (503, {"error": "unavailable"})
    health = signed_in.get("/healthz")  # reads no session: says what is down
    assert health.status_code == 503 and health.get_json()["redis"] == "error"

    restartable_redis.start()
    again = signed_in.get("/accounts")
    assert again.status_code == 200 and "owner@example.test" in again.get_data(as_text=True)


@pytest.mark.slow
def test_an_htmx_request_sends_the_browser_to_its_page_which_says_so(restartable_redis, signed_in, caplog):
    restartable_redis.stop()
    caplog.clear()
    fragment = signed_in.get("/accounts?status=expired", headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost/accounts?network=x"})
    assert fragment.status_code == 503 and fragment.headers["Retry-After"] == "60"
    assert fragment.headers["HX-Redirect"] == "/accounts?network=x" and fragment.get_data() == b""
    assert "HX-Request" in fragment.headers["Vary"]
    assert len(warnings_of(caplog)) == 1
    assert signed_in.get(fragment.headers["HX-Redirect"]).status_code == 503


@pytest.mark.slow
def test_sign_in_reset_and_sign_up_are_refused_while_their_attempts_cannot_be_counted(
        restartable_redis, app, client, auth, session, caplog):
    factories.agency(session)
    restartable_redis.stop()
    caplog.clear()
    refused = auth.login("owner@example.test")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "60"
    with client.session_transaction() as cookie:
        assert "_user_id" not in cookie
    assert auth.post("/reset", {"email": "owner@example.test"}).status_code == 503
    assert auth.post("/signup", FORM).status_code == 503
    assert [line.exc_info for line in warnings_of(caplog)] == [None, None, None]

    restartable_redis.start()
    assert client.get("/accounts").status_code == 302  # nobody was signed in
    assert Queue(app.config["QUEUE_NAME"], connection=app.extensions["keepalive.redis"]).count == 0
    assert auth.login("owner@example.test").status_code == 303
    assert client.get("/accounts").status_code == 200


def test_with_the_sessions_answering_a_sign_in_that_cannot_be_counted_is_still_refused(app_config, session):
    """The limits' own storage away (RATELIMIT_STORAGE_URI), the queue's and
    the sessions' Redis answering: the right password signs nobody in."""
    factories.agency(session)
    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/0"})
    client = app.test_client()
    auth = Auth(client)
    try:
        refused = auth.login("owner@example.test")
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "60"
        assert client.get("/accounts").status_code == 302
        assert auth.post("/reset", {"email": "owner@example.test"}).status_code == 503
        assert Queue(app.config["QUEUE_NAME"], connection=app.extensions["keepalive.redis"]).count == 0
    finally:
        app.extensions["keepalive.engine"].dispose()


def test_a_redis_that_takes_connections_and_never_answers_is_a_503_too(app_config, monkeypatch, caplog):
    """Redis stopped but its port open (a paused process, a saturated
    network): the connection is made and nothing answers. The request gives
    up after the client's socket timeout (shortened here) and says so, as
    when Redis refuses, never a 500 and never a wait without end."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as silent:  # never accepts, never answers
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        monkeypatch.setattr(portal.queue, "REDIS_TIMEOUTS", {"socket_timeout": 0.2, "socket_connect_timeout": 0.2})
        app = create_app({**app_config, "REDIS_URL": url, "RATELIMIT_STORAGE_URI": url})
        client = app.test_client()
        try:
            with client.session_transaction() as cookie:
                cookie["_user_id"] = secrets.token_urlsafe(32)  # a signed-in browser: its session is in Redis
            caplog.clear()
            page = client.get("/accounts")
            assert page.status_code == 503 and page.headers["Retry-After"] == "60"
            assert card(page)[:2] == ["503", TITLE]
            [line] = warnings_of(caplog)
            assert line.getMessage().startswith("Redis is not answering (TimeoutError: ")
        finally:
            app.extensions["keepalive.engine"].dispose()


def test_the_rate_limits_give_up_on_redis_when_the_queue_does(app):
    """Seconds, not the minutes a connection to an address that does not
    answer takes to fail, which outlast the web server's patience."""
    for connection in (limiter.storage.storage, app.extensions["keepalive.redis"]):
        settings = connection.connection_pool.connection_kwargs
        assert {name: settings[name] for name in REDIS_TIMEOUTS} == REDIS_TIMEOUTS


@pytest.mark.parametrize("sent", ["renewal link", "invitation to connect", "member invitation"])
def test_what_cannot_be_queued_is_not_kept_as_sent(request, app_config, sent):
    """A link or an invitation is committed only once its email is queued:
    while the queue's Redis does not answer, the person gets the 503 and no
    row says "sent" with no email on its way."""
    app_config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app, session = request.getfixturevalue("app"), request.getfixturevalue("session")
    made = factories.agency(session, people={"owner": "owner"}, brands=["north"],
                            profiles={"page": {"brands": ["north"]}})
    owner, profile = made.people["owner"], made.profiles["page"]
    model, send = {
        "renewal link": (RenewalLink, lambda: links.send(
            session, profile, "client@example.test", Purpose.CLIENT, made.org.name, "en", created_by_id=owner.id)),
        "invitation to connect": (ConnectInvitation, lambda: connect_invitations.invite(
            session, made.org, owner, "client@example.test", ["facebook"], "", made.brands["north"], 7, "en")),
        "member invitation": (Invitation, lambda: member_invitations.invite(
            session, made.org, "new@example.test", "member", False, owner)),
    }[sent]
    with app.test_request_context(), pytest.raises(RedisConnectionError):
        send()
    session.rollback()  # as the request's end does
    assert session.exec(select(model)).all() == []
    assert session.exec(select(AuditEvent).where(AuditEvent.action.like("%.sent"))).all() == []
