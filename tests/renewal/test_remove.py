"""Removing a profile revokes its grant at the network, over HTTP against
the sandbox: where the network offers revocation, and only when no other
profile of the agency rests on the same grant."""
import pytest
from sqlmodel import select

from devkit.sandbox import samples
from portal.models import SocialProfile
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


def test_a_network_without_revocation_or_refusing_it_still_loses_the_profile(world, session):
    connect_all(world, "facebook")
    page = remove(world, session, "sample-fb-101")
    # Facebook offers no revocation here: the message says nothing of it.
    assert "Riverside Bakery (Facebook) is removed, and its tokens are deleted.</p>" in page

    connect_all(world, "tiktok", account="sample-tt-1001")
    world.fault("tiktok", "500", count=3)
    page = remove(world, session, "sample-tt-1001")
    assert "TikTok did not take its access back" in page
    session.rollback()
    assert session.exec(select(SocialProfile).where(SocialProfile.network == "tiktok")).all() == []
