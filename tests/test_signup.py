"""An agency starts from nothing: sign-up with an emailed confirmation, the
SIGNUP setting, and `flask --app wsgi create-agency` with its set-password link."""
import re
from datetime import timedelta

import pytest
from sqlmodel import select, update

from portal import create_app
from portal.config import Config, ConfigurationError
from portal.db import utcnow
from portal.models import AuditEvent, Membership, Organization, PasswordReset, Signup, User
from tests import factories
from tests.conftest import csrf_token, run_jobs

CONFIRM_LINK = re.compile(r"http://localhost(/signup/confirm/[A-Za-z0-9_\-]+)")
RESET_LINK = re.compile(r"http://localhost(/reset/[A-Za-z0-9_\-]+)")
TOKEN = re.compile(r'"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"')  # a page's CSRF token
FORM = {"agency_name": "Acme Social", "name": "Ada Lovelace", "email": "Ada@Acme.test",
        "password": "a long enough password"}


def sign_up(client, address="127.0.0.1", **changes):
    data = {"csrf_token": csrf_token(client), **FORM, **changes}
    return client.post("/signup", data=data, environ_base={"REMOTE_ADDR": address})


def confirm_path(message):
    return CONFIRM_LINK.search(message.get_body(("plain",)).get_content()).group(1)


def test_the_page_asks_for_the_agency_and_its_owner(client):
    page = client.get("/signup").get_data(as_text=True)
    for words in ("Create your agency", "Agency name", "Your name", "Email", "Password", "Create agency"):
        assert words in page
    assert 'href="/signup"' in client.get("/login").get_data(as_text=True)


def test_sign_up_confirm_and_land_in_the_new_agency(smtp_server, app, client, session):
    response = sign_up(client)
    assert response.status_code == 303 and response.headers["Location"] == "/signup/sent"
    assert "ada@acme.test" in client.get("/signup/sent").get_data(as_text=True)
    assert session.exec(select(User)).all() == []  # nothing made before the link is followed

    assert run_jobs(app) == (2, 0)  # the sign-up's, then its message's (`jobs.mail.send_message`)
    [message] = smtp_server
    assert message["To"] == "ada@acme.test"
    assert message["Subject"] == "Confirm your new agency on Keepalive"
    assert "24 hours" in message.get_body(("plain",)).get_content()
    path = confirm_path(message)
    session.rollback()
    assert path.rsplit("/", 1)[1] not in session.exec(select(Signup)).one().secret_hash  # the hash alone is kept

    # Not a member of anything until confirmed: the password does not sign in.
    login = client.post("/login", data={"csrf_token": csrf_token(client), "email": "ada@acme.test",
                                        "password": FORM["password"]})
    assert login.status_code == 401

    page = client.get(path)  # opening the link spends nothing
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert "Create Acme Social" in page.get_data(as_text=True)
    assert client.get(path).status_code == 200

    done = client.post(path, data={"csrf_token": csrf_token(client)})
    assert done.status_code == 303 and done.headers["Location"] == "/"
    session.rollback()
    owner = session.exec(select(User)).one()
    organization = session.exec(select(Organization)).one()
    membership = session.exec(select(Membership)).one()
    assert (owner.email, owner.name, organization.name) == ("ada@acme.test", "Ada Lovelace", "Acme Social")
    assert (membership.role, membership.can_manage_profiles, membership.organization_id) == (
        "owner", True, organization.id)
    actions = {event.action for event in session.exec(select(AuditEvent)).all()}
    assert {"agency.created", "signup.confirmed"} <= actions
    home = client.get("/")
    assert home.status_code == 200 and "Acme Social" in home.get_data(as_text=True)

    assert client.post(path, data={"csrf_token": csrf_token(client)}).status_code == 410
    assert len(session.exec(select(Organization)).all()) == 1


def test_a_taken_address_gets_the_same_answer_and_an_email_saying_so(smtp_server, app, session):
    org = factories.organization(session, name="Old Agency")
    factories.member(session, org, email="ada@acme.test")
    new, taken = app.test_client(), app.test_client()

    answers = []
    for client, email in ((new, "grace@acme.test"), (taken, "ada@acme.test")):
        response = sign_up(client, email=email)
        answers.append((response.status_code, response.headers["Location"],
                        TOKEN.sub("", client.get("/signup/sent").get_data(as_text=True).replace(email, "EMAIL"))))
    assert answers[0] == answers[1]

    assert run_jobs(app) == (4, 0)  # each sign-up's, and each one's message
    by_recipient = {message["To"]: message for message in smtp_server}
    assert by_recipient["grace@acme.test"]["Subject"] == "Confirm your new agency on Keepalive"
    note = by_recipient["ada@acme.test"]
    assert note["Subject"] == "You already have a Keepalive account"
    assert not CONFIRM_LINK.search(note.get_body(("plain",)).get_content())
    assert "/reset" in note.get_body(("plain",)).get_content()
    session.rollback()
    assert [o.name for o in session.exec(select(Organization)).all()] == ["Old Agency"]
    assert run_jobs(app) == (0, 0)


@pytest.mark.parametrize("field, value, message", [
    ("agency_name", "", "Enter the name of your agency."),
    ("agency_name", "x" * 121, "A name has at most 120 characters."),
    ("name", "  ", "Enter your name."),
    ("email", "not-an-address", "Enter an email address like name@example.com."),
    ("password", "short", "Use between 10 and 1024 characters."),
])
def test_bad_input_is_explained_and_kept(client, session, field, value, message):
    response = sign_up(client, **{field: value})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    for kept in ("agency_name", "name", "email"):
        if kept != field:
            assert f'value="{FORM[kept]}"' in page or f'value="{FORM[kept].lower()}"' in page
    assert session.exec(select(Signup)).all() == []


def test_sign_ups_are_limited_per_address_and_per_network_address(client, session):
    for _ in range(3):
        assert sign_up(client).status_code == 303
    refused = sign_up(client)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many attempts" in refused.get_data(as_text=True)
    assert 'value="Acme Social"' in refused.get_data(as_text=True)  # nothing typed is lost
    assert sign_up(client, email="other@acme.test").status_code == 303  # another address goes on

    for number in range(10):  # from one network address, whatever the emails
        assert sign_up(client, address="10.0.0.9", email=f"p{number}@acme.test").status_code == 303
    assert sign_up(client, address="10.0.0.9", email="more@acme.test").status_code == 429


def pending_link(app, session, smtp_server):
    sign_up(app.test_client())
    run_jobs(app)
    return confirm_path(smtp_server[-1])


def test_an_expired_unknown_or_spent_link_says_so(smtp_server, app, client, session):
    path = pending_link(app, session, smtp_server)
    assert client.get("/signup/confirm/not-a-link").status_code == 404
    session.exec(update(Signup).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    expired = client.get(path)
    assert expired.status_code == 410 and "has expired" in expired.get_data(as_text=True)
    assert client.post(path, data={"csrf_token": csrf_token(client)}).status_code == 410
    assert session.exec(select(User)).all() == []


def test_an_address_taken_before_the_confirmation_makes_nothing(smtp_server, app, client, session):
    path = pending_link(app, session, smtp_server)
    org = factories.organization(session, name="Joined meanwhile")
    factories.member(session, org, email="ada@acme.test")
    response = client.post(path, data={"csrf_token": csrf_token(client)})
    assert response.status_code == 409
    assert "already has an account" in response.get_data(as_text=True)
    session.rollback()
    assert [o.name for o in session.exec(select(Organization)).all()] == ["Joined meanwhile"]
    assert client.get(path).status_code == 410  # spent


def test_signup_closed_answers_404(app_config, database):
    app = create_app({**app_config, "SIGNUP": "closed"})
    client = app.test_client()
    assert client.get("/signup").status_code == 404
    assert client.post("/signup", data={**FORM, "csrf_token": csrf_token(client)}).status_code == 404
    assert client.get("/signup/sent").status_code == 404
    assert client.get("/signup/confirm/anything").status_code == 404
    assert 'href="/signup"' not in client.get("/login").get_data(as_text=True)
    app.extensions["keepalive.engine"].dispose()


def test_signup_is_open_in_development_and_closed_in_production(tmp_path):
    assert Config(tmp_path, {}).SIGNUP == "open"
    production = {"KEEPALIVE_ENV": "production", "SECRET_KEY": "s" * 40,
                  "TOKEN_KEYS": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="}
    assert Config(tmp_path, production).SIGNUP == "closed"
    assert Config(tmp_path, {**production, "SIGNUP": "Open"}).SIGNUP == "open"
    with pytest.raises(ConfigurationError, match="SIGNUP must be one of open, closed"):
        Config(tmp_path, {"SIGNUP": "maybe"})


# --- create-agency ------------------------------------------------------------

def test_create_agency_prints_a_link_that_sets_the_owners_password(app, runner, client, session):
    result = runner.invoke(args=["create-agency", "Bluebird Media", "--owner", "Sam@Bluebird.test",
                                 "--owner-name", "Sam"])
    assert result.exit_code == 0, result.output
    path = RESET_LINK.search(result.output).group(1)
    assert "sam@bluebird.test" in result.output and "72 hours" in result.output
    owner = session.exec(select(User)).one()
    assert owner.password_hash is None
    assert session.exec(select(Membership)).one().role == "owner"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "agency.created")).one().data == {
        "name": "Bluebird Media"}

    page = client.get(path)
    assert page.status_code == 200 and "Choose your password" in page.get_data(as_text=True)
    data = {"csrf_token": csrf_token(client), "password": "the owner's own passphrase",
            "confirm": "the owner's own passphrase"}
    assert client.post(path, data=data).headers["Location"] == "/"
    assert "Bluebird Media" in client.get("/").get_data(as_text=True)
    assert client.post(path, data={**data, "csrf_token": csrf_token(client)}).status_code == 410  # single use
    session.rollback()
    assert session.exec(select(PasswordReset)).one().used_at is not None


def test_create_agency_for_someone_with_an_account_adds_them_as_owner(app, runner, session):
    org = factories.organization(session, name="First Agency")
    person = factories.member(session, org, email="sam@bluebird.test")
    result = runner.invoke(args=["create-agency", "Second Agency", "--owner", "sam@bluebird.test"])
    assert result.exit_code == 0, result.output
    assert "/reset/" not in result.output and "sign in as usual" in result.output
    session.rollback()
    roles = {m.organization_id: m.role for m in session.exec(select(Membership).where(
        Membership.user_id == person.id)).all()}
    assert sorted(roles.values()) == ["member", "owner"]


@pytest.mark.parametrize("args, message", [
    (["create-agency", "Acme", "--owner", "not an email"], "is not an email address"),
    (["create-agency", " ", "--owner", "sam@acme.test"], "give the agency a name"),
    (["create-agency", "Acme"], "Missing option '--owner'"),
])
def test_create_agency_refuses_bad_input(runner, session, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code == 2
    assert message in result.output
    assert session.exec(select(Organization)).all() == []
