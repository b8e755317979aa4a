"""Invitations: the service the settings pages call, and the link a person
follows to join, with a new account or an existing one."""
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.auth import invitations
from portal.db import utcnow
from portal.models import AuditEvent, Invitation, Membership, Role, User
from portal.url_secrets import new_secret
from tests import factories
from tests.conftest import csrf_token, run_jobs

PASSWORD = "a long enough passphrase"
LINK = re.compile(r"http://localhost(/invitations/[A-Za-z0-9_\-]+)")


@pytest.fixture
def org(store):
    return factories.organization(store, name="Northwind Agency")


@pytest.fixture
def owner(store, org):
    return factories.member(store, org, role="owner", email="owner@example.test", name="Olga Owner")


def post(client, path, data=None, token_from=None):
    token = csrf_token(client, token_from or path)
    return client.post(path, data={"csrf_token": token, **(data or {})})


def sign_in(client, email, path="/login"):
    return client.post(path, data={"email": email, "password": factories.PASSWORD,
                                   "csrf_token": csrf_token(client)})


def issue(store, org, email, role="member", can_manage_profiles=False, **fields):
    """An invitation made directly, as `invite` would; returns its link's path."""
    secret, secret_hash = new_secret()
    fields.setdefault("expires_at", utcnow() + timedelta(hours=72))
    store.add(Invitation(organization_id=org.id, email=email, role=role,
                         can_manage_profiles=can_manage_profiles, secret_hash=secret_hash, **fields))
    store.commit()
    return f"/invitations/{secret}"


def invite(app, store, *args, **kwargs):
    with app.test_request_context():
        return invitations.invite(store, *args, **kwargs)


def membership(store, user_id, organization_id):
    store.rollback()  # see what the requests wrote
    return store.exec(select(Membership).where(Membership.user_id == user_id,
                                               Membership.organization_id == organization_id)).first()


# --- The service


def test_invite_stores_the_invitation_and_sends_the_link(smtp_server, app, store, org, owner):
    invitation = invite(app, store, org, "  New.Person@Example.TEST ", "manager", True, owner)
    assert invitation.email == "new.person@example.test"
    assert invitation.role == Role.MANAGER
    assert invitation.can_manage_profiles is True
    assert invitation.invited_by_id == owner.id
    lifetime = invitation.expires_at - utcnow()
    assert timedelta(hours=app.config["LINK_LIFETIME_HOURS"]) - timedelta(minutes=1) < lifetime
    assert lifetime <= timedelta(hours=app.config["LINK_LIFETIME_HOURS"])
    event = store.exec(select(AuditEvent).where(AuditEvent.action == "invitation.sent")).one()
    assert (event.organization_id, event.user_id) == (org.id, owner.id)

    assert run_jobs(app) == (1, 0)
    [message] = smtp_server
    assert message["To"] == "new.person@example.test"
    assert message["Subject"] == "Olga Owner invited you to Northwind Agency on Keepalive"
    text = message.get_body(("plain",)).get_content()
    assert "as Manager" in text
    path = LINK.search(text).group(1)
    assert f"http://localhost{path}" in message.get_body(("html",)).get_content()
    assert path.rsplit("/", 1)[1] != invitation.secret_hash


def test_a_new_invitation_replaces_the_pending_one(app, store, org, owner):
    first = invite(app, store, org, "pat@example.test", "member", False, owner)
    second = invite(app, store, org, "PAT@example.test", "manager", False, owner)
    store.refresh(first)
    assert first.revoked_at is not None
    assert second.revoked_at is None
    pending = store.exec(select(Invitation).where(Invitation.revoked_at.is_(None))).all()
    assert [i.id for i in pending] == [second.id]


def test_inviting_a_member_is_refused(app, store, org, owner):
    factories.member(store, org, email="already@example.test")
    with pytest.raises(invitations.AlreadyMember):
        invite(app, store, org, "Already@Example.test", "member", False, owner)
    assert issubclass(invitations.AlreadyMember, ValueError)
    assert store.exec(select(Invitation)).all() == []


def test_a_user_of_another_organization_can_be_invited(app, store, org, owner):
    other = factories.organization(store)
    factories.member(store, other, email="elsewhere@example.test")
    assert invite(app, store, org, "elsewhere@example.test", "member", False, owner).id


def test_an_unknown_role_is_refused(app, store, org, owner):
    with pytest.raises(ValueError):
        invite(app, store, org, "pat@example.test", "emperor", False, owner)


def test_revoke(client, store, org, owner):
    path = issue(store, org, "pat@example.test")
    invitation = store.exec(select(Invitation)).one()
    invitations.revoke(store, invitation, by=owner)
    assert invitation.revoked_at is not None
    assert store.exec(select(AuditEvent).where(AuditEvent.action == "invitation.revoked")).one()
    response = client.get(path)
    assert response.status_code == 410
    assert "This invitation was withdrawn" in response.get_data(as_text=True)


# --- The link, for a person with no account yet


def test_new_person_creates_an_account_and_joins(smtp_server, app, client, store, org, owner):
    invite(app, store, org, "new@example.test", "manager", True, owner)
    assert run_jobs(app) == (1, 0)
    path = LINK.search(smtp_server[0].get_body(("plain",)).get_content()).group(1)

    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    text = page.get_data(as_text=True)
    assert "Northwind Agency" in text
    assert "as Manager" in text
    assert "Your name" in text

    response = post(client, path, {"name": "  Nina New ", "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Welcome to Northwind Agency." in home.get_data(as_text=True)
    with client.session_transaction() as session:
        assert session["organization_id"] == org.id

    store.rollback()
    user = store.exec(select(User).where(User.email == "new@example.test")).one()
    assert user.name == "Nina New"
    joined = membership(store, user.id, org.id)
    assert (joined.role, joined.can_manage_profiles) == ("manager", True)
    assert store.exec(select(Invitation)).one().accepted_at is not None

    assert client.get(path).status_code == 410  # single use
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert sign_in(app.test_client(), "new@example.test").status_code == 401  # its own password
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": "new@example.test", "password": PASSWORD,
                                      "csrf_token": csrf_token(fresh)}).status_code == 303


@pytest.mark.parametrize(
    "name, password, confirm, message",
    [
        ("", "", "", "Enter your name."),
        ("Nina", "", "", "Choose a password."),
        ("N" * 121, PASSWORD, PASSWORD, "A name has at most 120 characters."),
        ("Nina", "short", "short", "Use between 10 and 1024 characters."),
        ("Nina", "x" * 1025, "x" * 1025, "Use between 10 and 1024 characters."),
        ("Nina", PASSWORD, "another passphrase", "The two passwords are not the same."),
    ],
)
def test_bad_new_account_form(client, store, org, name, password, confirm, message):
    path = issue(store, org, "new@example.test")
    response = post(client, path, {"name": name, "password": password, "confirm": confirm})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    store.rollback()
    assert store.exec(select(User)).all() == []
    assert client.get(path).status_code == 200  # still usable


# --- The link, for a person who has an account


def test_existing_user_signs_in_then_accepts(client, store, org):
    other = factories.organization(store, name="Other Agency")
    person = factories.member(store, other, email="pat@example.test")
    path = issue(store, org, "pat@example.test", role="member", can_manage_profiles=True)

    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={path}"
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sign in as pat@example.test to accept this invitation." in login_page

    signed_in = client.post(response.headers["Location"], data={
        "email": "pat@example.test", "password": factories.PASSWORD, "csrf_token": csrf_token(client)})
    assert signed_in.headers["Location"] == path

    page = client.get(path)
    assert page.status_code == 200
    assert ">Accept invitation</button>" in page.get_data(as_text=True)
    assert membership(store, person.id, org.id) is None  # showing the page changes nothing

    accepted = post(client, path)
    assert accepted.status_code == 303
    joined = membership(store, person.id, org.id)
    assert (joined.role, joined.can_manage_profiles) == ("member", True)
    with client.session_transaction() as session:
        assert session["organization_id"] == org.id
    assert "Northwind Agency" in client.get("/").get_data(as_text=True)
    assert client.get(path).status_code == 410


def test_signed_in_as_someone_else_is_sent_to_sign_in(client, store, org):
    factories.member(store, org, email="someone@example.test")
    person = factories.user(store, email="pat@example.test")
    path = issue(store, org, "pat@example.test")
    assert sign_in(client, "someone@example.test").status_code == 303
    assert client.get(path).status_code == 302
    response = post(client, path, token_from="/")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")
    assert membership(store, person.id, org.id) is None


def test_accept_without_csrf_token_is_refused(client, store, org):
    person = factories.user(store, email="pat@example.test")
    path = issue(store, org, "pat@example.test")
    sign_in(client, "pat@example.test")
    assert client.post(path).status_code == 400
    assert membership(store, person.id, org.id) is None


# --- Links that no longer work


def test_used_invitation(client, store, org):
    path = issue(store, org, "pat@example.test", accepted_at=utcnow())
    response = client.get(path)
    assert response.status_code == 410
    assert "This invitation was already accepted" in response.get_data(as_text=True)


def test_expired_invitation(client, store, org):
    path = issue(store, org, "pat@example.test", expires_at=utcnow() - timedelta(seconds=1))
    response = client.get(path)
    assert response.status_code == 410
    assert "This invitation has expired" in response.get_data(as_text=True)
    refused = post(client, path, {"name": "Pat", "password": PASSWORD, "confirm": PASSWORD})
    assert refused.status_code == 410
    store.rollback()
    assert store.exec(select(User)).all() == []


def test_revoked_invitation(client, store, org):
    path = issue(store, org, "pat@example.test", revoked_at=utcnow())
    assert client.get(path).status_code == 410
    assert post(client, path, {"name": "Pat", "password": PASSWORD, "confirm": PASSWORD}).status_code == 410


def test_tampered_invitation(client, store, org):
    path = issue(store, org, "pat@example.test")
    tampered = path[:-1] + ("A" if path[-1] != "A" else "B")
    response = client.get(tampered)
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "This invitation link is not valid" in page
    assert 'href="/login"' in page
    assert client.get(path).status_code == 200
