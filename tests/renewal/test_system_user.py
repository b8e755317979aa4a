"""A Business Manager system user's token given on a profile's details page:
checked with the sandbox network over HTTP, then the profile's credential."""
import html
import logging

import pytest
from sqlmodel import select

from portal.db import utcnow
from portal.models import RenewalAttempt
from portal.status import Status, token_status
from tests import factories
from tests.renewal.conftest import OWNER, agency

pytestmark = pytest.mark.slow

SYSTEM_USER = "system-user@business.test"


def system_user_token(live, network, external_id, **extra):
    """The token Business Manager generates for a system user assigned to the account."""
    return live.grant(network, external_id, email=SYSTEM_USER, kind="system_user", **extra)["access_token"]


def give(live, profile_id, token):
    return live.http.post(f"/profiles/{profile_id}/system-user-token",
                          data={"token": token, "csrf_token": live.csrf(f"/accounts/{profile_id}")})


@pytest.mark.parametrize("network", ["facebook", "instagram_business"])
def test_a_system_user_token_becomes_the_credential(live, session, network, caplog):
    token = system_user_token(live, network, "5001")
    _, person, profile = agency(session, network, "5001", refresh_token="EAA-the-person's-user-token",
                                expires_in=None)
    live.login()
    with caplog.at_level(logging.DEBUG):
        response = give(live, profile.id, f"  {token}\n")

    assert response.status_code == 303 and response.headers["location"] == f"/accounts/{profile.id}"
    credential = live.current(profile.id)
    assert (credential.token_type, credential.expires_at, credential.granted_by_id) == ("system_user", None, person.id)
    assert credential.sealed_refresh_token is None  # the person's token is not kept in it
    assert live.cipher().unseal(credential.sealed_access_token) == token
    assert token not in credential.sealed_access_token
    assert token_status(credential, utcnow(), 7).status == Status.NO_EXPIRY
    attempts = session.exec(select(RenewalAttempt).where(RenewalAttempt.profile_id == profile.id)).all()
    assert [(a.mode, a.outcome, a.user_id) for a in attempts] == [("system_user", "renewed", person.id)]
    page = html.unescape(live.http.get(f"/accounts/{profile.id}").text)
    assert "now uses the system user's token, which does not expire." in page
    assert "Not needed: a system user's token from Business Manager, which does not expire" in page
    assert token not in page and token not in "\n".join(r.getMessage() for r in caplog.records)


def test_a_sixty_day_system_user_token_shows_its_end(live, session):
    token = system_user_token(live, "facebook", "5001", expires_in=60 * 86400)
    _, _, profile = agency(session, "facebook", "5001")
    live.login()
    assert give(live, profile.id, token).status_code == 303
    credential = live.current(profile.id)
    assert token_status(credential, utcnow(), 7).status == Status.VALID
    assert "a system user's token is replaced by a new one from Business Manager" in html.unescape(
        live.http.get(f"/accounts/{profile.id}").text)


@pytest.mark.parametrize("given, message", [
    ("", "Paste the token Business Manager generated for the system user."),
    ("page", "That is not a system user's token of this app."),
    ("unassigned", "Facebook does not let this system user reach Northwind Café."),
    ("EAAS-revoked-long-ago", "Facebook says this token is no longer valid."),
])
def test_a_token_that_will_not_do_is_refused_with_the_reason(live, session, given, message):
    page_token = live.grant("facebook", "5001")["access_token"]
    elsewhere = system_user_token(live, "facebook", "5002")
    token = {"page": page_token, "unassigned": elsewhere}.get(given, given)
    _, _, profile = agency(session, "facebook", "5001")
    before = live.current(profile.id).id
    live.login()
    response = give(live, profile.id, token)
    assert response.status_code == 400
    assert message in html.unescape(response.text) and 'aria-invalid="true"' in response.text
    assert not token or token not in response.text  # a refused token is not written back into the page
    assert live.current(profile.id).id == before


def test_only_those_who_may_renew_give_a_system_user_token(live, session):
    token = system_user_token(live, "facebook", "5001")
    org, _, profile = agency(session, "facebook", "5001")
    member = factories.member(session, org, role="member", email="member@demo.test", can_manage_profiles=False)
    factories.access(session, member, profile, "admin")
    x_profile = factories.profile(session, org, network="x", external_id="5009", name="On X")
    session.commit()
    live.login("member@demo.test")
    assert "system-user-token" not in live.http.get(f"/accounts/{profile.id}").text
    assert give(live, profile.id, token).status_code == 403
    live.login(OWNER)
    assert give(live, x_profile.id, token).status_code == 404  # not a network of Business Manager
    other = factories.profile(session, factories.organization(session), network="facebook", external_id="5001")
    session.commit()
    assert give(live, other.id, token).status_code == 404  # another agency's profile


def test_a_consent_for_another_page_leaves_a_system_user_token_alone(live, session):
    live.grant("facebook", "5001", name="Northwind Café")
    live.grant("facebook", "5002", name="Northwind Bakery")
    token = system_user_token(live, "facebook", "5001")
    org, _, cafe = agency(session, "facebook", "5001")
    bakery = factories.profile(session, org, network="facebook", external_id="5002", name="Northwind Bakery")
    factories.credential(session, bakery, status="invalid", invalid_reason="password_changed")
    session.commit()
    live.login()
    assert give(live, cafe.id, token).status_code == 303

    live.renew_interactively(bakery.id)  # the person's consent grants both Pages
    assert not live.current(bakery.id).is_invalid
    assert live.current(cafe.id).token_type == "system_user"  # kept: a person's token would be a worse one

    # Renewing that Page itself with a person's consent is asked for: the person's token it is.
    started = live.http.post(f"/profiles/{cafe.id}/renew", data={"csrf_token": live.csrf("/"), "next": "/",
                                                                 "by": "consent"})
    live.http.get(live.consent(started.headers["location"]))
    assert live.current(cafe.id).token_type != "system_user"


def test_renew_token_on_a_system_user_token_asks_for_a_new_one_or_a_persons_consent(live, session):
    live.grant("facebook", "5001")
    token = system_user_token(live, "facebook", "5001", expires_in=2 * 86400)  # 60 days, nearly over
    _, _, profile = agency(session, "facebook", "5001")
    live.login()
    assert give(live, profile.id, token).status_code == 303

    response = live.renew(profile.id, next_url="/accounts")
    assert response.status_code == 303 and response.headers["location"] == f"/accounts/{profile.id}#system-user"
    assert live.current(profile.id).token_type == "system_user"
    page = html.unescape(live.http.get(f"/accounts/{profile.id}").text)
    assert "uses a system user's token: generate a new one in Business Manager" in page
    assert "Renew with a person's Facebook account instead" in page

    consent = live.http.post(f"/profiles/{profile.id}/renew", data={
        "csrf_token": live.csrf(f"/accounts/{profile.id}"), "next": f"/accounts/{profile.id}", "by": "consent"})
    assert consent.status_code == 303 and "/dialog/oauth" in consent.headers["location"]


def test_a_consent_renews_another_page_whose_system_user_token_died(live, session):
    live.grant("facebook", "5001", name="Northwind Café")
    live.grant("facebook", "5002", name="Northwind Bakery")
    token = system_user_token(live, "facebook", "5001")
    org, _, cafe = agency(session, "facebook", "5001")
    bakery = factories.profile(session, org, network="facebook", external_id="5002", name="Northwind Bakery")
    factories.credential(session, bakery, status="invalid", invalid_reason="password_changed")
    session.commit()
    live.login()
    assert give(live, cafe.id, token).status_code == 303
    dead = live.current(cafe.id)
    dead.status, dead.invalid_reason = "invalid", "app_removed"  # the system user lost the Page
    session.add(dead)
    session.commit()

    live.renew_interactively(bakery.id)
    assert not live.current(cafe.id).is_invalid  # a person's token is better than a dead one
