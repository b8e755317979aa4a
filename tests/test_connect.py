"""Connect a profile without a network: who may, the empty states that lead
there, and the choice kept sealed while the person picks. (Through the
sandbox network: tests/renewal/test_connect.py.)"""
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.connect import picks
from portal.db import utcnow
from portal.models import ConnectInvitation, Membership, Role
from portal.networks.base import GrantedProfile, TokenSet
from portal.permissions import may_connect_profiles
from portal.queue import redis
from tests import factories
from tests.test_accounts import QueryCounter


@pytest.mark.parametrize("role, manages, allowed", [
    (Role.OWNER, False, True),
    (Role.MANAGER, False, True),
    (Role.MEMBER, True, True),
    (Role.MEMBER, False, False),
])
def test_who_may_connect_profiles(role, manages, allowed):
    decision = may_connect_profiles(Membership(role=role, can_manage_profiles=manages))
    assert bool(decision) is allowed
    assert decision.reason == (None if allowed else "no_manage_profiles")
    assert may_connect_profiles(None).reason == "not_a_member"


@pytest.mark.parametrize("role, manages, sees_button", [("owner", False, True), ("member", True, True),
                                                         ("member", False, False)])
def test_a_fresh_agency_is_led_to_connect_a_profile(client, auth, session, role, manages, sees_button):
    factories.agency(session, people={"person": {"role": role, "can_manage_profiles": manages}})
    auth.login("person@example.test")
    for path in ("/", "/accounts"):
        page = client.get(path).get_data(as_text=True)
        assert "No social profiles yet" in page, path
        assert ('href="/accounts/connect"' in page) is sees_button, path
        assert "<table" not in page and "tile-count" not in page
        if not sees_button:
            assert "Ask an Owner or Manager of your organization to connect them" in page


def test_filters_that_match_nothing_say_so_instead(client, auth, session):
    factories.agency(session, profiles={"page": {"network": "facebook", "credential": {}}})
    auth.login("owner@example.test")
    page = client.get("/accounts?network=x").get_data(as_text=True)
    assert "No profile matches these filters" in page and "No social profiles yet" not in page
    assert "No social profiles yet" not in client.get("/").get_data(as_text=True)


def test_a_brand_without_profiles_points_to_every_brand(client, auth, session):
    made = factories.agency(session, brands=["empty", "full"],
                            profiles={"page": {"network": "facebook", "brands": ["full"], "credential": {}}})
    auth.login("owner@example.test")
    auth.post("/settings/switch", {"organization_id": made.org.id, "brand_id": made.brands["empty"].id})
    page = client.get("/").get_data(as_text=True)
    assert "No profile in this brand yet" in page and "No social profiles yet" not in page


def test_a_choice_is_kept_sealed_and_for_half_an_hour(app):
    granted = GrantedProfile(network="x", external_id="42", name="Riverside", handle="@riverside",
                             tokens=TokenSet("plain-access-token", "plain-refresh-token"), can_renew="yes")
    with app.test_request_context():
        pick_id = picks.keep(picks.Pick(network="x", organization_id=1, candidates=[picks.Candidate.of(granted)]))
        [key] = [k for k in redis().scan_iter(match=f"{app.config['REDIS_KEY_PREFIX']}:connect-pick:*")]
        raw = redis().get(key)
        assert b"plain-access-token" not in raw and pick_id.encode() not in key
        assert 0 < redis().ttl(key) <= picks.TTL_SECONDS
        found = picks.find(pick_id)
        assert found.candidates[0].token_set().refresh_token == "plain-refresh-token"
        assert picks.find("another") is None and picks.find("x" * 500) is None
        picks.forget(pick_id)
        assert picks.find(pick_id) is None


def test_the_list_of_invitations_costs_the_same_however_many_it_shows(app, client, auth, session):
    made = factories.agency(session, people={"owner": "owner", "manager": "manager"}, brands=["north", "south"])
    inviters, brands = list(made.people.values()), list(made.brands.values())
    counts = {}
    for total in (2, 40):
        have = len(session.exec(select(ConnectInvitation)).all())
        for n in range(have, total):
            session.add(ConnectInvitation(
                organization_id=made.org.id, email=f"client{n}@example.test", networks="facebook,instagram",
                connected="facebook" if n % 3 else "", brand_id=brands[n % 2].id, secret_hash=f"{n:064d}",
                invited_by_id=inviters[n % 2].id, expires_at=utcnow() + timedelta(days=n % 5 - 2),
                used_at=utcnow() if n % 7 == 0 else None))
        session.commit()
        auth.login("owner@example.test")
        client.get("/accounts/connect/invitations")  # what a process keeps between requests (the header's counts) kept
        with QueryCounter(app.extensions["keepalive.engine"]) as counter:
            page = client.get("/accounts/connect/invitations")
        assert page.status_code == 200
        counts[total] = counter.count
    html = page.get_data(as_text=True)
    assert html.count('id="invitation-') == 40 and "client39@example.test" in html
    assert ">40 invitations<" in html and "page 1 of" not in html
    assert counts[2] == counts[40]


def invite(auth, email="client@example.test"):
    return auth.post("/accounts/connect/invite", {"networks": ["facebook"], "email": email, "message": "",
                                                  "brand": "", "days": "7", "language": "en"})


def test_an_invitation_whose_email_the_relay_refuses_shows_as_not_sent(mailbox, app, client, auth, session):
    """The list and the activity say so; sent again, it is on its way again, and a refusal of the
    email sent before does not speak for the new one."""
    from portal.models import AuditEvent
    from tests.conftest import run_jobs

    factories.agency(session)
    mailbox.refuse["client@example.test"] = "550 5.1.1 mailbox unavailable"
    auth.login("owner@example.test")
    assert invite(auth).status_code == 303
    assert run_jobs(app) == (1, 0)

    listing = client.get("/accounts/connect/invitations").get_data(as_text=True)
    assert "Email not sent" in listing and "550 5.1.1 mailbox unavailable" in listing
    invitation = session.exec(select(ConnectInvitation)).one()
    again = f"/accounts/connect/invitations/{invitation.id}/send-again"
    assert auth.post(again).status_code == 303
    assert "Email not sent" not in client.get("/accounts/connect/invitations").get_data(as_text=True)
    # Refused twice more: the first of the two speaks of a link that no longer works.
    assert auth.post(again).status_code == 303
    assert run_jobs(app) == (2, 0)
    assert "Email not sent" in client.get("/accounts/connect/invitations").get_data(as_text=True)
    session.commit()  # a fresh snapshot: the worker wrote from its own session
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "connect_invitation.email_failed")).all()
    assert [event.data for event in events] == [
        {"email": "client@example.test", "error": "550 5.1.1 mailbox unavailable"}] * 2

    del mailbox.refuse["client@example.test"]
    assert auth.post(again).status_code == 303
    assert run_jobs(app) == (1, 0)
    assert [m["To"] for m in mailbox.messages] == ["client@example.test"]
    assert "Email not sent" not in client.get("/accounts/connect/invitations").get_data(as_text=True)
