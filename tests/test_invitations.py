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
def org(session):
    return factories.organization(session, name="Northwind Agency")


@pytest.fixture
def owner(session, org):
    return factories.member(session, org, role="owner", email="owner@example.test", name="Olga Owner")


def post(client, path, data=None):
    token = csrf_token(client)
    return client.post(path, data={"csrf_token": token, **(data or {})})


def sign_in(client, email, path="/login"):
    return client.post(path, data={"email": email, "password": factories.PASSWORD,
                                   "csrf_token": csrf_token(client)})


def issue(session, org, email, role="member", can_manage_profiles=False, **fields):
    """An invitation made directly, as `invite` would; returns its link's path."""
    secret, secret_hash = new_secret()
    fields.setdefault("expires_at", utcnow() + timedelta(hours=72))
    session.add(Invitation(organization_id=org.id, email=email, role=role,
                         can_manage_profiles=can_manage_profiles, secret_hash=secret_hash, **fields))
    session.commit()
    return f"/invitations/{secret}"


def invite(app, session, *args, **kwargs):
    with app.test_request_context():
        return invitations.invite(session, *args, **kwargs)


def membership(session, user_id, organization_id):
    session.rollback()  # see what the requests wrote
    return session.exec(select(Membership).where(Membership.user_id == user_id,
                                               Membership.organization_id == organization_id)).first()


# --- The service


def test_invite_stores_the_invitation_and_sends_the_link(smtp_server, app, session, org, owner):
    invitation = invite(app, session, org, "  New.Person@Example.TEST ", "manager", True, owner)
    assert invitation.email == "new.person@example.test"
    assert invitation.role == Role.MANAGER
    assert invitation.can_manage_profiles is True
    assert invitation.invited_by_id == owner.id
    lifetime = invitation.expires_at - utcnow()
    assert timedelta(hours=app.config["LINK_LIFETIME_HOURS"]) - timedelta(minutes=1) < lifetime
    assert lifetime <= timedelta(hours=app.config["LINK_LIFETIME_HOURS"])
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "invitation.sent")).one()
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


def test_a_new_invitation_replaces_the_pending_one(app, session, org, owner):
    first = invite(app, session, org, "pat@example.test", "member", False, owner)
    second = invite(app, session, org, "PAT@example.test", "manager", False, owner)
    session.refresh(first)
    assert first.revoked_at is not None
    assert second.revoked_at is None
    pending = session.exec(select(Invitation).where(Invitation.revoked_at.is_(None))).all()
    assert [i.id for i in pending] == [second.id]


def test_an_invitation_whose_email_the_relay_refuses_shows_as_not_sent(mailbox, app, client, session, org, owner):
    """Settings → Members says so, with the relay's answer, and the activity log too; inviting the
    address again puts it on its way again, and a refusal of the email it replaced is not recorded."""
    refused = "550 5.1.1 mailbox unavailable"
    mailbox.refuse["pat@example.test"] = refused
    sign_in(client, owner.email)

    def invite_pat():
        response = post(client, "/settings/members/invite", {"email": "pat@example.test", "role": "member"})
        assert response.status_code == 303

    def pending():
        html = client.get("/settings/members").get_data(as_text=True)
        return html[html.index('id="invitations"'):]

    invite_pat()
    assert run_jobs(app) == (1, 0)
    assert "Email not sent" in pending() and refused in pending()

    invite_pat()
    assert "Email not sent" not in pending()
    invite_pat()  # refused twice more: the first of the two for an invitation replaced since
    assert run_jobs(app) == (2, 0)
    assert "Email not sent" in pending()
    session.rollback()
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "invitation.email_failed")).all()
    assert [(event.organization_id, event.data) for event in events] == [
        (org.id, {"email": "pat@example.test", "error": refused})] * 2
    assert [i.email_error for i in session.exec(select(Invitation).order_by(Invitation.id))] == [refused, None, refused]

    del mailbox.refuse["pat@example.test"]
    invite_pat()
    assert run_jobs(app) == (1, 0)
    assert [m["To"] for m in mailbox.messages] == ["pat@example.test"]
    assert "Email not sent" not in pending()


def test_inviting_a_member_is_refused(app, session, org, owner):
    factories.member(session, org, email="already@example.test")
    with pytest.raises(invitations.AlreadyMember):
        invite(app, session, org, "Already@Example.test", "member", False, owner)
    assert issubclass(invitations.AlreadyMember, ValueError)
    assert session.exec(select(Invitation)).all() == []


def test_a_user_of_another_organization_can_be_invited(app, session, org, owner):
    other = factories.organization(session)
    factories.member(session, other, email="elsewhere@example.test")
    assert invite(app, session, org, "elsewhere@example.test", "member", False, owner).id


def test_an_unknown_role_is_refused(app, session, org, owner):
    with pytest.raises(ValueError):
        invite(app, session, org, "pat@example.test", "emperor", False, owner)


def test_send_again_gives_a_new_link_and_ends_the_one_before(mailbox, app, client, session, org, owner):
    """Settings → Members' "Send again": the same invitation (address, role,
    "Manage social profiles") on a new link, the email refused before put on
    its way; the link before stops working. A Manager cannot send again an
    invitation they could not make (an Owner's)."""
    mailbox.refuse["pat@example.test"] = "550 5.1.1 mailbox unavailable"
    sign_in(client, owner.email)
    assert post(client, "/settings/members/invite", {"email": "pat@example.test", "role": "manager",
                                                     "can_manage_profiles": "y"}).status_code == 303
    assert run_jobs(app) == (1, 0) and mailbox.messages == []
    first = session.exec(select(Invitation)).one()
    del mailbox.refuse["pat@example.test"]

    page = client.get("/settings/members").get_data(as_text=True)
    assert f'action="/settings/invitations/{first.id}/send-again"' in page and "Email not sent" in page
    answer = client.post(f"/settings/invitations/{first.id}/send-again", data={"csrf_token": csrf_token(client)},
                         headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "Invitation sent to pat@example.test." in answer.get_data(as_text=True)
    assert run_jobs(app) == (1, 0)
    [message] = mailbox.messages
    assert message["To"] == "pat@example.test"
    session.rollback()
    before, again = session.exec(select(Invitation).order_by(Invitation.id)).all()
    assert before.revoked_at is not None and again.revoked_at is None and again.email_error is None
    assert (again.email, again.role, again.can_manage_profiles) == ("pat@example.test", Role.MANAGER, True)
    assert "Email not sent" not in client.get("/settings/members").get_data(as_text=True)

    owners_invitation = issue(session, org, "olive@example.test", role="owner")
    olive = session.exec(select(Invitation).where(Invitation.email == "olive@example.test")).one()
    manager = factories.member(session, org, role="manager", email="manager@example.test")
    other = app.test_client()
    sign_in(other, manager.email)
    refused = other.post(f"/settings/invitations/{olive.id}/send-again", data={"csrf_token": csrf_token(other)})
    assert refused.status_code == 403
    session.rollback()
    assert session.get(Invitation, olive.id).revoked_at is None
    assert client.get(owners_invitation).status_code == 200


def test_revoke(client, session, org, owner):
    path = issue(session, org, "pat@example.test")
    invitation = session.exec(select(Invitation)).one()
    invitations.revoke(session, invitation, by=owner)
    assert invitation.revoked_at is not None
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "invitation.revoked")).one()
    response = client.get(path)
    assert response.status_code == 410
    assert "This invitation was withdrawn" in response.get_data(as_text=True)


# --- The link, for a person with no account yet


def test_new_person_creates_an_account_and_joins(smtp_server, app, client, session, org, owner):
    invite(app, session, org, "new@example.test", "manager", True, owner)
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
    with client.session_transaction() as cookie:
        assert cookie["organization_id"] == org.id

    session.rollback()
    user = session.exec(select(User).where(User.email == "new@example.test")).one()
    assert user.name == "Nina New"
    joined = membership(session, user.id, org.id)
    assert (joined.role, joined.can_manage_profiles) == ("manager", True)
    assert session.exec(select(Invitation)).one().accepted_at is not None

    assert client.get(path).status_code == 410  # single use
    client.post("/logout", data={"csrf_token": csrf_token(client)})
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
def test_bad_new_account_form(client, session, org, name, password, confirm, message):
    path = issue(session, org, "new@example.test")
    response = post(client, path, {"name": name, "password": password, "confirm": confirm})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    session.rollback()
    assert session.exec(select(User)).all() == []
    assert client.get(path).status_code == 200  # still usable


# --- The link, for a person who has an account


def test_existing_user_signs_in_then_accepts(client, session, org):
    other = factories.organization(session, name="Other Agency")
    person = factories.member(session, other, email="pat@example.test")
    path = issue(session, org, "pat@example.test", role="member", can_manage_profiles=True)

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
    assert membership(session, person.id, org.id) is None  # showing the page changes nothing

    accepted = post(client, path)
    assert accepted.status_code == 303
    joined = membership(session, person.id, org.id)
    assert (joined.role, joined.can_manage_profiles) == ("member", True)
    with client.session_transaction() as cookie:
        assert cookie["organization_id"] == org.id
    assert "Northwind Agency" in client.get("/").get_data(as_text=True)
    assert client.get(path).status_code == 410


def test_signed_in_as_someone_else_is_sent_to_sign_in(client, session, org):
    factories.member(session, org, email="someone@example.test")
    person = factories.user(session, email="pat@example.test")
    path = issue(session, org, "pat@example.test")
    assert sign_in(client, "someone@example.test").status_code == 303
    assert client.get(path).status_code == 302
    response = post(client, path)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")
    assert membership(session, person.id, org.id) is None


def test_accept_without_csrf_token_is_refused(client, session, org):
    person = factories.user(session, email="pat@example.test")
    path = issue(session, org, "pat@example.test")
    sign_in(client, "pat@example.test")
    assert client.post(path).status_code == 400
    assert membership(session, person.id, org.id) is None


# --- Links that no longer work


def test_used_invitation(client, session, org):
    path = issue(session, org, "pat@example.test", accepted_at=utcnow())
    response = client.get(path)
    assert response.status_code == 410
    assert "This invitation was already accepted" in response.get_data(as_text=True)


def test_expired_invitation(client, session, org):
    path = issue(session, org, "pat@example.test", expires_at=utcnow() - timedelta(seconds=1))
    response = client.get(path)
    assert response.status_code == 410
    assert "This invitation has expired" in response.get_data(as_text=True)
    refused = post(client, path, {"name": "Pat", "password": PASSWORD, "confirm": PASSWORD})
    assert refused.status_code == 410
    session.rollback()
    assert session.exec(select(User)).all() == []


def test_revoked_invitation(client, session, org):
    path = issue(session, org, "pat@example.test", revoked_at=utcnow())
    assert client.get(path).status_code == 410
    assert post(client, path, {"name": "Pat", "password": PASSWORD, "confirm": PASSWORD}).status_code == 410


def test_tampered_invitation(client, session, org):
    path = issue(session, org, "pat@example.test")
    tampered = path[:-1] + ("A" if path[-1] != "A" else "B")
    response = client.get(tampered)
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "This invitation link is not valid" in page
    assert 'href="/login"' in page
    assert client.get(path).status_code == 200
