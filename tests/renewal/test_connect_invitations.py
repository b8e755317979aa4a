"""Invite a client to connect, over HTTP against the sandbox network: the
agency's form and list, the email, and the client's own pages, consents and
choice of profiles, in the language the agency chose."""
import re
from datetime import timedelta

import httpx2
import pytest
from sqlmodel import select, update

from devkit.sandbox import samples
from portal.db import utcnow
from portal.models import AuditEvent, BrandProfile, ConnectInvitation, Notification, SocialProfile
from tests import factories
from tests.conftest import run_jobs
from tests.renewal.conftest import OWNER

pytestmark = pytest.mark.slow

LINK = re.compile(r"http://127\.0\.0\.1:\d+(/connect/[A-Za-z0-9_\-]+)")
SHOWN = re.compile(r'name="shown" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(live, session, smtp_server):
    live.admin("samples", {})
    made = factories.agency(session, name="Bright Agency", brands={"bakery": "Riverside"}, people={
        "owner": {"role": "owner", "email": OWNER, "name": "Olivia Hart"},
        "manager": {"role": "manager", "email": "manager@example.test"},
        "member": {"role": "member", "email": "member@example.test"}})
    live.login()
    return live, made, smtp_server


class Client:
    """The client in a browser of their own: no account, their link."""

    def __init__(self, live):
        self.live = live
        self.http = httpx2.Client(base_url=live.base_url, timeout=30, follow_redirects=False, trust_env=False)

    def token(self, path):
        page = self.http.get(path)
        return CSRF.search(page.text).group(1)

    def start(self, path, network, account=None, decision="allow", email=samples.ALEX):
        started = self.http.post(f"{path}/networks/{network}", data={"csrf_token": self.token(path)})
        assert started.status_code == 303, started.text
        consent = started.headers["location"]
        self.http.get(consent)
        person = f"{email}|{account}" if account else email
        back = self.http.post(consent, data={"person": person, "decision": decision})
        return self.http.get(back.headers["location"])

    def choose(self, path, **form):
        return self.http.post(path, data={"csrf_token": self.token(path), **form})


def invite(live, networks=("instagram", "facebook"), **form):
    data = {"csrf_token": live.csrf("/accounts/connect/invite"), "networks": list(networks),
            "email": "client@riverside.example", "message": "Hi Alex, this keeps your posts going.",
            "brand": "", "days": "7", "language": "en", **form}
    return live.http.post("/accounts/connect/invite", data=data)


def sent_link(app, smtp_server):
    run_jobs(app)
    message = smtp_server[-1]
    return message, LINK.search(message.get_body(("plain",)).get_content()).group(1)


def test_a_client_connects_an_instagram_account_through_the_emailed_link(world, session, app):
    live, made, smtp_server = world
    response = invite(live, brand=str(made.brands["bakery"].id), language="fr")
    assert response.status_code == 303 and response.headers["location"] == "/accounts/connect/invitations"
    message, path = sent_link(app, smtp_server)
    assert message["To"] == "client@riverside.example" and message["Reply-To"] == OWNER
    assert "Bright Agency" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "Olivia Hart" in text and "Hi Alex, this keeps your posts going." in text and "Instagram" in text
    listing = live.http.get("/accounts/connect/invitations").text
    assert "client@riverside.example" in listing and "Pending" in listing

    client = Client(live)
    page = client.http.get(path)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert '<html lang="fr">' in page.text and "Bright Agency" in page.text and "Olivia Hart" in page.text
    assert "Hi Alex, this keeps your posts going." in page.text
    assert "Manage Accounts" not in page.text and "Gérer les comptes" not in page.text  # nothing of the portal

    chooser = client.start(path, "instagram", account="sample-ig-301")
    assert chooser.status_code == 303, chooser.text
    choose_path = chooser.headers["location"]
    picker = client.http.get(choose_path)
    assert SHOWN.findall(picker.text) == ["sample-ig-301"] and '<html lang="fr">' in picker.text
    shared = client.choose(choose_path, shown=["sample-ig-301"], selected=["sample-ig-301"], go="connect")
    assert shared.status_code == 303 and shared.headers["location"] == path
    assert "Riverside Bakery" in client.http.get(path).text  # "Shared: ..."

    session.rollback()
    profile = session.exec(select(SocialProfile)).one()
    assert (profile.network, profile.external_id, profile.organization_id) == ("instagram", "sample-ig-301",
                                                                               made.org.id)
    assert session.get(BrandProfile, (made.brands["bakery"].id, profile.id)) is not None
    assert live.current(profile.id).granted_by_id is None
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "profile.connected")).one()
    assert (event.organization_id, event.actor_name, event.user_id) == (made.org.id, "client@riverside.example",
                                                                        None)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "connect_invitation.used")).one()
    told = session.exec(select(Notification).where(Notification.kind == "client_connected")).all()
    assert {n.user_id for n in told} == {made.owner.id, made.people["manager"].id}
    bell = live.http.get("/notifications").text
    assert "Connected by the client through an invitation" in bell
    assert "Riverside Bakery" in live.http.get("/accounts").text

    done = client.http.post(f"{path}/done", data={"csrf_token": client.token(path)})
    assert done.status_code == 303 and done.headers["location"] == "/connect/thanks"
    thanks = client.http.get("/connect/thanks").text
    assert "Merci" in thanks and "Bright Agency" in thanks and "Instagram" in thanks
    assert client.http.get(path).status_code == 410
    assert "Used" in live.http.get("/accounts/connect/invitations").text


def test_every_network_asked_for_connected_ends_the_invitation(world, session, app):
    live, made, smtp_server = world
    invite(live, networks=("facebook",))
    _, path = sent_link(app, smtp_server)
    client = Client(live)
    choose_path = client.start(path, "facebook").headers["location"]
    shown = SHOWN.findall(client.http.get(choose_path).text)
    assert shown == ["sample-fb-101", "sample-fb-102", "sample-fb-103"]
    done = client.choose(choose_path, shown=shown, selected=shown[:2], go="connect")
    assert done.headers["location"] == "/connect/thanks"
    session.rollback()
    assert len(session.exec(select(SocialProfile)).all()) == 2
    assert session.exec(select(ConnectInvitation)).one().used_at is not None


def test_a_declined_consent_goes_back_to_the_invitation_saying_so(world, app):
    live, made, smtp_server = world
    invite(live)
    _, path = sent_link(app, smtp_server)
    client = Client(live)
    back = client.start(path, "instagram", decision="deny")
    assert back.status_code == 303 and back.headers["location"] == path
    assert "You declined the request on Instagram, so nothing was shared" in client.http.get(path).text


def test_a_choice_is_this_browsers_only(world, app):
    live, made, smtp_server = world
    invite(live)
    _, path = sent_link(app, smtp_server)
    client, stranger = Client(live), Client(live)
    choose_path = client.start(path, "instagram", account="sample-ig-301").headers["location"]
    assert stranger.http.get(choose_path).status_code == 404
    stranger.http.get(path)  # holding the same invitation is not enough: the choice is the other browser's
    other = stranger.http.get(choose_path)
    assert other.status_code == 200  # the same invitation, by its link: the client's own
    assert live.http.get(choose_path).status_code == 404  # the agency's person has no invitation in hand


def test_withdrawn_sent_again_and_expired_invitations(world, session, app):
    live, made, smtp_server = world
    invite(live)
    _, first = sent_link(app, smtp_server)
    invitation = session.exec(select(ConnectInvitation)).one()
    again = live.http.post(f"/accounts/connect/invitations/{invitation.id}/send-again",
                           data={"csrf_token": live.csrf("/accounts/connect/invitations")})
    assert again.status_code == 303
    _, second = sent_link(app, smtp_server)
    client = Client(live)
    assert client.http.get(first).status_code == 404 and client.http.get(second).status_code == 200

    revoked = live.http.post(f"/accounts/connect/invitations/{invitation.id}/revoke",
                             data={"csrf_token": live.csrf("/accounts/connect/invitations")})
    assert revoked.status_code == 303
    gone = client.http.get(second)
    assert gone.status_code == 410 and "withdrew" in gone.text
    assert "Withdrawn" in live.http.get("/accounts/connect/invitations").text
    refused = live.http.post(f"/accounts/connect/invitations/{invitation.id}/send-again",
                             data={"csrf_token": live.csrf("/accounts/connect/invitations")})
    assert refused.status_code == 303
    assert "is not sent again" in live.http.get("/accounts/connect/invitations").text

    invite(live, email="late@riverside.example")
    _, late = sent_link(app, smtp_server)
    session.rollback()
    session.exec(update(ConnectInvitation).where(ConnectInvitation.email == "late@riverside.example")
                 .values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    expired = client.http.get(late)
    assert expired.status_code == 410 and "has expired" in expired.text
    assert "Expired" in live.http.get("/accounts/connect/invitations").text
    actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    assert actions.count("connect_invitation.sent") == 3 and "connect_invitation.revoked" in actions


@pytest.mark.parametrize("form, message", [
    ({"networks": []}, "Choose at least one network."),
    ({"networks": ["myspace"]}, "is not a valid choice"),
    ({"email": "nobody"}, "Enter an email address like name@example.com."),
    ({"email": ""}, "Enter the client's email address."),
    ({"message": "x" * 1001}, "A message has at most 1000 characters."),
    ({"brand": "99999"}, "That brand does not exist in this organization."),
    ({"days": "365"}, "Choose how long the link works from the list."),
    ({"language": "xx"}, "Not a valid choice"),
])
def test_bad_input_on_the_invitation_form_is_explained_and_kept(world, session, form, message):
    live, made, smtp_server = world
    data = {"networks": ["instagram"], **form}
    response = invite(live, **data)
    assert response.status_code == 400 and message in response.text
    if "email" not in form:
        assert 'value="client@riverside.example"' in response.text  # nothing typed is lost
    assert session.exec(select(ConnectInvitation)).all() == []


def test_only_those_who_connect_profiles_invite_clients(world, session):
    live, made, smtp_server = world
    live.http.post("/logout", data={"csrf_token": live.csrf("/")})
    live.login("member@example.test")
    assert live.http.get("/accounts/connect/invite").status_code == 403
    assert live.http.get("/accounts/connect/invitations").status_code == 403
    assert invite(live).status_code == 403
    assert session.exec(select(ConnectInvitation)).all() == []
