"""Password reset by email, end to end through the real RQ worker and a
real SMTP server on loopback."""
import re
from datetime import timedelta

import pytest
from redis import Redis
from sqlmodel import Session, select, update

from portal.auth import resets
from portal.db import utcnow
from portal.models import PasswordReset, User
from portal.url_secrets import new_secret
from tests import factories
from tests.conftest import csrf_token, run_jobs

NEW_PASSWORD = "a brand new passphrase"
SAME_ANSWER = "If an account exists for that address, we sent a link to it."
LINK = re.compile(r"http://localhost(/reset/[A-Za-z0-9_\-]+)")


@pytest.fixture
def person(session):
    org = factories.organization(session, name="Northwind Agency")
    return factories.member(session, org, email="pat@example.test", name="Pat")


def post(client, path, data, address="127.0.0.1"):
    data = {"csrf_token": csrf_token(client), **data}
    return client.post(path, data=data, environ_base={"REMOTE_ADDR": address})


def sign_in(client, email, password=factories.PASSWORD):
    return post(client, "/login", {"email": email, "password": password})


def issue(session, user, expires_at=None):
    """A reset link made directly, as `request_reset` would; returns its path."""
    secret, secret_hash = new_secret()
    session.add(PasswordReset(user_id=user.id, secret_hash=secret_hash,
                            expires_at=expires_at or utcnow() + timedelta(hours=2)))
    session.commit()
    return f"/reset/{secret}"


def reload(session, user):
    session.rollback()  # end the test's own transaction: see what the requests wrote
    return session.get(User, user.id)


def test_reset_end_to_end(smtp_server, app, client, session, person):
    version = person.session_version
    other_device = app.test_client()
    assert sign_in(other_device, "pat@example.test").status_code == 303

    response = post(client, "/reset", {"email": "Pat@Example.test"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/reset/sent"
    assert SAME_ANSWER in client.get("/reset/sent").get_data(as_text=True)

    assert run_jobs(app) == (2, 0)  # the reset's, then its message's (`jobs.mail.send_message`)
    assert len(smtp_server) == 1
    message = smtp_server[0]
    assert message["To"] == "pat@example.test"
    assert message["Subject"] == "Reset your Keepalive password"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    path = LINK.search(text).group(1)
    assert f"http://localhost{path}" in html
    assert "2 hours" in text

    session.rollback()
    reset = session.exec(select(PasswordReset)).one()
    assert path.rsplit("/", 1)[1] not in reset.secret_hash  # only the hash is stored
    assert timedelta(hours=1, minutes=59) < reset.expires_at - utcnow() <= timedelta(hours=2)

    form = client.get(path)
    assert form.status_code == 200
    assert form.headers["Referrer-Policy"] == "no-referrer"
    assert "Choose a new password" in form.get_data(as_text=True)

    done = post(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303
    assert done.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200  # signed in
    assert "Your password is changed." in home.get_data(as_text=True)

    user = reload(session, person)
    assert user.session_version == version + 1
    assert other_device.get("/").status_code == 302  # the other session has ended

    fresh = app.test_client()
    assert sign_in(fresh, "pat@example.test").status_code == 401
    assert sign_in(fresh, "pat@example.test", NEW_PASSWORD).status_code == 303


def test_unknown_address_gets_the_same_answer_and_no_email(smtp_server, app, client, session, person):
    known = post(client, "/reset", {"email": "pat@example.test"})
    unknown = post(client, "/reset", {"email": "nobody@example.test"})
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert run_jobs(app) == (3, 0)  # one each, and the known address's message: the unknown one finds no account
    assert [m["To"] for m in smtp_server] == ["pat@example.test"]
    session.rollback()
    assert len(session.exec(select(PasswordReset)).all()) == 1


def test_link_works_once(client, session, person):
    path = issue(session, person)
    assert post(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 303
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    again = client.get(path)
    assert again.status_code == 410
    page = again.get_data(as_text=True)
    assert "This password reset link was already used" in page
    assert 'href="/reset"' in page
    # Sending the form again with a valid token is refused too.
    token = csrf_token(client)
    again = client.post(path, data={"password": "x" * 12, "confirm": "x" * 12, "csrf_token": token})
    assert again.status_code == 410


def test_two_submissions_racing_cannot_both_succeed(app, session, person):
    secret = issue(session, person).rsplit("/", 1)[1]
    with Session(app.extensions["keepalive.engine"], expire_on_commit=False) as other:
        # Both requests read the link while it was still unused...
        first, _ = resets.find_reset(session, secret)
        second, problem = resets.find_reset(other, secret)
        assert problem is None
        # ...only the first to write wins.
        resets.complete_reset(session, first, NEW_PASSWORD)
        with pytest.raises(resets.LinkSpent):
            resets.complete_reset(other, second, "another passphrase")
    assert reload(session, person).session_version == 2


def test_a_link_that_expires_while_the_form_is_open_is_refused(session, person):
    secret = issue(session, person).rsplit("/", 1)[1]
    reset, problem = resets.find_reset(session, secret)
    assert problem is None
    session.exec(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    with pytest.raises(resets.LinkSpent):
        resets.complete_reset(session, reset, NEW_PASSWORD)
    assert reload(session, person).session_version == 1


def test_a_used_link_spends_the_others(client, session, person):
    first, second = issue(session, person), issue(session, person)
    assert post(client, second, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 303
    assert client.get(first).status_code == 410


def test_expired_link(client, session, person):
    path = issue(session, person, expires_at=utcnow() - timedelta(seconds=1))
    response = client.get(path)
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "This password reset link has expired" in page
    assert 'href="/reset"' in page
    assert post(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 410
    assert reload(session, person).session_version == 1


def test_tampered_link(client, session, person):
    path = issue(session, person)
    last = path[-1]
    tampered = path[:-1] + ("A" if last != "A" else "B")
    response = client.get(tampered)
    assert response.status_code == 404
    assert "This password reset link is not valid" in response.get_data(as_text=True)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    "password, confirm, message",
    [
        ("", "", "Choose a password."),
        ("short", "short", "Use between 10 and 1024 characters."),
        ("x" * 1025, "x" * 1025, "Use between 10 and 1024 characters."),
        (NEW_PASSWORD, "something else entirely", "The two passwords are not the same."),
        (NEW_PASSWORD, "", "Type the password a second time."),
    ],
)
def test_bad_new_password(client, session, person, password, confirm, message):
    path = issue(session, person)
    response = post(client, path, {"password": password, "confirm": confirm})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get(path).status_code == 200  # the link is still good
    assert reload(session, person).session_version == 1


@pytest.mark.parametrize(
    "email, message",
    [
        ("", "Enter your email address."),
        ("pat-at-example.test", "Enter an email address like name@example.com."),
        ("p" * 250 + "@example.test", "An email address has at most 254 characters."),
    ],
)
def test_bad_reset_request(app, client, session, person, email, message):
    response = post(client, "/reset", {"email": email})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert run_jobs(app) == (0, 0)


def test_reset_requests_for_one_address_are_limited(app, client, session, person):
    for n in range(5):
        assert post(client, "/reset", {"email": "pat@example.test"}, address=f"10.1.0.{n}").status_code == 303
    refused = post(client, "/reset", {"email": "pat@example.test"}, address="10.1.1.1")
    assert refused.status_code == 429
    assert "Too many requests in a short time" in refused.get_data(as_text=True)
    assert run_jobs(app) == (10, 0)  # five resets, and their five messages


def test_login_page_links_to_reset(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/reset"' in page
    assert ">Email</label>" in client.get("/reset").get_data(as_text=True)


def test_a_known_and_an_unknown_address_cost_the_request_the_same(app, client, session, person):
    """The request only counts and queues: whether an account has the address is
    found out by the worker, so the answer takes the same time either way."""
    from rq import Queue
    from sqlalchemy import event

    statements = []

    def count(*args):
        statements.append(args[2])

    engine = app.extensions["keepalive.engine"]
    queue = Queue(app.config["QUEUE_NAME"], connection=Redis.from_url(app.config["REDIS_URL"]))
    work = {}
    event.listen(engine, "before_cursor_execute", count)
    try:
        for email in ("pat@example.test", "nobody@example.test"):
            statements.clear()
            assert post(client, "/reset", {"email": email}).status_code == 303
            work[email] = (list(statements), queue.count)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert work["pat@example.test"][0] == work["nobody@example.test"][0] == []
    assert [jobs for _, jobs in work.values()] == [1, 2]
    session.rollback()
    assert session.exec(select(PasswordReset)).all() == []  # written by the worker, not the request
    assert run_jobs(app) == (3, 0)  # the two resets, and the known address's message
    session.rollback()
    assert len(session.exec(select(PasswordReset)).all()) == 1


def test_other_spellings_of_an_address_share_its_reset_budget(app, client, session, person):
    spellings = ["pat@example.test", "PAT@EXAMPLE.TEST", "pat@ｅｘａｍｐｌｅ.test", "Pat@ＥＸＡＭＰＬＥ.test", "ｐａｔ@example.test"]
    for n, email in enumerate(spellings):
        assert post(client, "/reset", {"email": email}, address=f"10.5.0.{n}").status_code == 303, email
    assert post(client, "/reset", {"email": "pat@ｅｘａｍｐｌｅ.ｔｅｓｔ"}, address="10.5.1.1").status_code == 429
