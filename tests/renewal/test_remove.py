"""Removing a profile revokes its grant at the network, over HTTP against
the sandbox: where the network offers revocation, and only when no other
profile of the agency rests on the same grant."""
import pytest
from sqlmodel import select

from devkit.sandbox import samples
from portal.models import AuditEvent, SocialProfile
from tests.renewal.test_connect import SHOWN, choose, owner_agency, picker

pytestmark = pytest.mark.slow


@pytest.fixture
def world(live, session):
    live.admin("samples", {})
    owner_agency(session)
    live.login()
    return live


def connect_all(live, network, account=None):
    path = picker(live, network, samples.ALEX, account=account)
    shown = SHOWN.findall(live.http.get(path).text)
    assert choose(live, path, shown=shown, selected=shown, go="connect").status_code == 303
    return shown


def remove(live, session, external_id):
    """Remove the profile through its dialog's button; the page it leads to."""
    session.rollback()
    profile = session.exec(select(SocialProfile).where(SocialProfile.external_id == external_id)).one()
    response = live.http.post(f"/accounts/{profile.id}/remove",
                              data={"csrf_token": live.csrf("/accounts"), "next": "/accounts?brand="})
    assert response.status_code == 303, response.text
    return live.http.get("/accounts?brand=").text


def grant_states(live, network):
    return {grant["effective_state"] for grant in live.admin("grants", method="get")["grants"]
            if grant["network"] == network}


@pytest.mark.parametrize("network, account, label, endpoint", [
    ("x", "sample-x-501", "X", "oauth2/revoke"),
    ("tiktok", "sample-tt-1001", "TikTok", "v2/oauth/revoke"),
])
def test_a_grant_is_revoked_where_the_network_offers_it(world, session, network, account, label, endpoint):
    connect_all(world, network, account=account)
    assert grant_states(world, network) == {"active"}
    page = remove(world, session, account)
    assert f"is removed, and its tokens are deleted. Its access was also revoked on {label}." in page
    assert grant_states(world, network) == {"revoked"}
    assert [c for c in world.calls(network) if c["endpoint"] == endpoint and c["status"] == 200]


def test_a_google_grant_that_other_profiles_rest_on_is_kept_until_the_last(world, session):
    assert connect_all(world, "google_business") == ["sample-gbp-901", "sample-gbp-902"]
    page = remove(world, session, "sample-gbp-901")
    assert "Its access stays on Google Business Profile: other profiles of the agency use the same sign-in." in page
    assert grant_states(world, "google_business") == {"active"}
    page = remove(world, session, "sample-gbp-902")
    assert "Its access was also revoked on Google Business Profile." in page
    assert grant_states(world, "google_business") == {"revoked"}


@pytest.mark.parametrize("first, then", [("facebook", "instagram_business"), ("instagram_business", "facebook")])
def test_meta_takes_a_persons_grant_back_with_their_last_profile(world, session, first, then):
    """One Meta app serves Facebook Pages and Instagram business accounts: a
    person's authorization of it ends only once no profile of the agency
    they connected is left, on either network."""
    for network in (first, then):
        connect_all(world, network)
    profiles = session.exec(select(SocialProfile).where(SocialProfile.network.in_(("facebook", "instagram_business")))
                            .order_by(SocialProfile.network != first, SocialProfile.external_id)).all()
    names = [(p.external_id, p.name, p.network) for p in profiles]
    labels = {"facebook": "Facebook", "instagram_business": "Instagram (Business)"}
    for external_id, name, network in names[:-1]:
        page = remove(world, session, external_id)
        assert (f"{name} ({labels[network]}) is removed, and its tokens are deleted. Its access stays on "
                f"{labels[network]}: other profiles of the agency use the same sign-in.") in page
        assert grant_states(world, "facebook") == {"active"}
    external_id, name, network = names[-1]
    page = remove(world, session, external_id)
    assert f"Its access was also revoked on {labels[network]}." in page
    assert grant_states(world, "facebook") == grant_states(world, "instagram_business") == {"app_removed"}
    assert [c for c in world.calls("facebook") + world.calls("instagram_business")
            if c["endpoint"] == "permissions" and c["status"] == 200]
    session.rollback()
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "profile.removed")).all()
    assert sorted(e.data["revocation"] for e in events) == ["revoked"] + ["shared"] * (len(names) - 1)


def test_a_meta_grant_of_another_person_is_not_taken_back(world, session):
    connect_all(world, "facebook")
    page = remove(world, session, "sample-fb-102")
    assert "Its access stays on Facebook" in page
    session.rollback()
    sunrise = picker(world, "facebook", samples.JORDAN)
    assert choose(world, sunrise, shown=["sample-fb-sunrise-001"], selected=["sample-fb-sunrise-001"],
                  go="connect").status_code == 303
    for external_id in ("sample-fb-101", "sample-fb-103"):
        page = remove(world, session, external_id)
    assert "Rivera Family Photography (Facebook) is removed, and its tokens are deleted. Its access was also " \
           "revoked on Facebook." in page
    states = {}
    for grant in world.admin("grants", method="get")["grants"]:
        states.setdefault(grant["person_id"], set()).add(grant["effective_state"])
    assert sorted(states.values(), key=sorted) == [{"active"}, {"app_removed"}]  # Jordan's, Alex's


def test_a_network_without_revocation_or_refusing_it_still_loses_the_profile(world, session):
    connect_all(world, "instagram", account="sample-ig-301")
    page = remove(world, session, "sample-ig-301")
    # Instagram Login documents no revocation: the message says nothing of it.
    assert "Riverside Bakery (Instagram) is removed, and its tokens are deleted.</p>" in page
    assert grant_states(world, "instagram") == {"active"}

    connect_all(world, "tiktok", account="sample-tt-1001")
    world.fault("tiktok", "500", count=3)
    page = remove(world, session, "sample-tt-1001")
    assert "TikTok did not take its access back" in page
    session.rollback()
    assert session.exec(select(SocialProfile).where(SocialProfile.network == "tiktok")).all() == []
