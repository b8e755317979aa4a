"""What Keepalive says of a token agrees with itself everywhere: a dead token
has no expiry to come (pages, webhooks), a page never says "Expired" beside
"No expiration date", nor "automatically" beside "No renewal attempt yet";
and every moment is shown in the person's time zone, saying which."""
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from jobs.scan import scan
from portal.crypto import seal
from portal.db import utcnow
from portal.models import RenewalAttempt, User, WebhookDelivery, WebhookEndpoint
from portal.networks.base import TokenSet, Validation
from portal.networks.outcomes import AccessTokenRejected
from portal.renewal.credentials import record_attempt
from tests import factories

DAY = timedelta(days=1)
FOUND_DEAD = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


def agency(session, credential, network="facebook"):
    made = factories.agency(session, people={"owner": {"role": "owner", "name": "Olivia Hart"}},
                            profiles={"page": {"network": network, "name": "Northwind Café",
                                               "credential": {"granted_by": "owner", **credential}}})
    return made


def facts(html):
    """{term: description} of the profile page's Token card, as plain text."""
    card = html.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0]
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", card, re.S)
    return {re.sub(r"<[^>]+>|\s+", " ", term).strip(): re.sub(r"<[^>]+>|\s+", " ", text).strip()
            for term, text in pairs}


def test_a_dead_token_shows_when_it_stopped_never_an_expiry_to_come(client, auth, session):
    made = agency(session, {"expires_in": 40 * DAY, "status": "invalid", "invalid_reason": "password_changed",
                            "invalidated_at": FOUND_DEAD})
    auth.login(made.owner.email)

    html = client.get(f"/accounts/{made.profiles['page'].id}").get_data(as_text=True)

    shown = facts(html)
    assert shown["Stopped working"] == "Nov 20, 2026, 9:30:00 AM UTC"
    assert "Effective expiry" not in shown and "Access token expires" not in shown
    assert shown["Renews silently"] == "No: a person must consent on Facebook"
    assert "No expiration date" not in html
    listing = client.get("/accounts").get_data(as_text=True)
    assert "Nov 20, 2026" in listing and (utcnow() + 40 * DAY).strftime("%b %-d, %Y") not in listing


def test_a_token_without_end_whose_check_failed_is_expired_and_nothing_says_no_expiration_date(
        client, auth, session):
    made = agency(session, {"expires_in": None, "refresh_token": "r", "last_check_ok": False}, network="x")
    auth.login(made.owner.email)

    html = client.get(f"/accounts/{made.profiles['page'].id}").get_data(as_text=True)

    assert 'class="pill pill-expired"' in html
    assert "No expiration date" not in html
    assert facts(html)["Stopped working"] == "—"


def test_a_grant_no_attempt_tells_of_is_called_granted_not_renewed_automatically(client, auth, session):
    made = agency(session, {"expires_in": 50 * DAY, "last_refreshed_at": utcnow()})
    auth.login(made.owner.email)

    html = client.get(f"/accounts/{made.profiles['page'].id}").get_data(as_text=True)

    shown = facts(html)
    assert "No renewal attempt yet." in html
    assert "Last renewed" not in shown and shown["Granted"].endswith("· by Olivia Hart")
    assert "automatically" not in html


def test_a_silent_renewal_is_told_as_automatic_beside_its_attempt(app, client, auth, session):
    made = agency(session, {"expires_in": 50 * DAY})
    profile, credential = made.profiles["page"], made.credentials["page"]
    with app.app_context():
        record_attempt(session, profile, "silent", "renewed", credential)
        session.commit()
    auth.login(made.owner.email)

    html = client.get(f"/accounts/{profile.id}").get_data(as_text=True)

    assert facts(html)["Last renewed"].endswith("· automatically")
    assert "No renewal attempt yet." not in html and "Silently" in html


@pytest.mark.parametrize("network, refresh_end, outcome", [
    ("x", None, "renewed"),  # no known end: the refresh keeps the grant alive
    ("linkedin_personal", 300 * DAY, "refreshed"),  # the refresh token's end does not move
])
def test_a_refresh_by_a_health_check_is_an_attempt_too(app, session, network, refresh_end, outcome):
    from portal.renewal.health import check_credential

    ends = utcnow() + refresh_end if refresh_end else None
    made = agency(session, {"expires_in": timedelta(hours=1), "refresh_token": "r", "refresh_expires_at": ends},
                  network=network)

    class Network:
        def validate(self, tokens, after_refresh=False):
            if not after_refresh:
                raise AccessTokenRejected("expired access token")
            return Validation(ok=True)

        def refresh(self, tokens):
            return TokenSet("a2", "r2", utcnow() + timedelta(hours=2), tokens.refresh_expires_at)

    with app.app_context():
        assert check_credential(made.profiles["page"].id, Network()) == outcome
    [attempt] = session.exec(select(RenewalAttempt)).all()
    assert (attempt.mode, attempt.outcome, attempt.user_id) == ("health_check", outcome, None)


def test_token_expired_events_never_carry_an_expiry_to_come(app, session):
    made = agency(session, {"expires_in": 40 * DAY, "status": "invalid", "invalid_reason": "password_changed",
                            "invalidated_at": utcnow() - timedelta(minutes=5)})
    with app.app_context():
        session.add(WebhookEndpoint(organization_id=made.org.id, url="https://example.test/in",
                                    sealed_secret=seal("whsec_c2VjcmV0"), events="token.expired"))
        session.commit()
        scan()
    session.commit()
    [delivery] = session.exec(select(WebhookDelivery)).all()
    body = json.loads(delivery.payload)
    assert body["type"] == "token.expired" and body["data"]["status"] == "expired"
    assert datetime.fromisoformat(body["data"]["expires_at"]) <= utcnow()
    assert body["data"]["days_left"] is None


def test_times_are_shown_in_the_persons_time_zone_and_say_which(client, auth, session):
    made = agency(session, {"expires_in": 40 * DAY, "status": "invalid", "invalid_reason": "password_changed",
                            "invalidated_at": FOUND_DEAD})
    auth.login(made.owner.email)
    page = f"/accounts/{made.profiles['page'].id}"
    assert facts(client.get(page).get_data(as_text=True))["Stopped working"] == "Nov 20, 2026, 9:30:00 AM UTC"

    response = auth.post("/settings/personal", {"name": "Olivia Hart", "locale": "", "timezone": "Asia/Kolkata"})
    assert response.status_code == 303
    assert facts(client.get(page).get_data(as_text=True))["Stopped working"] == "Nov 20, 2026, 3:00:00 PM UTC+5:30"
    settings = client.get("/settings/personal").get_data(as_text=True)
    assert '<option selected value="Asia/Kolkata">Asia/Kolkata</option>' in settings

    response = auth.post("/settings/personal", {"name": "Olivia Hart", "locale": "", "timezone": "Mars/Olympus"})
    assert response.status_code == 400 and "Olivia Hart" in response.get_data(as_text=True)


def test_the_browsers_zone_is_taken_until_the_person_chooses_one(client, auth, session):
    made = agency(session, {"expires_in": 40 * DAY})
    auth.login(made.owner.email)
    assert 'src="/static/js/timezone.js"' in client.get("/").get_data(as_text=True)

    assert auth.post("/settings/personal/browser-timezone", {"timezone": "Nowhere/Atlantis"}).status_code == 400
    assert auth.post("/settings/personal/browser-timezone", {"timezone": "America/New_York"}).status_code == 204
    assert stored_zone(session, made.owner) == "America/New_York"
    assert 'src="/static/js/timezone.js"' not in client.get("/").get_data(as_text=True)
    # Once set (or chosen), another browser's zone does not replace it.
    assert auth.post("/settings/personal/browser-timezone", {"timezone": "Europe/Paris"}).status_code == 204
    assert stored_zone(session, made.owner) == "America/New_York"


def stored_zone(session, user):
    session.rollback()
    return session.get(User, user.id).timezone


def test_an_email_tells_the_end_in_the_recipients_time_zone(app, session):
    from portal.models import Notification, Organization, SocialProfile
    from portal.notifications import messages

    made = agency(session, {"expires_in": 3 * DAY})
    user = session.get(User, made.owner.id)
    user.timezone = "Europe/Berlin"
    ends = datetime(2026, 12, 7, 14, 0, tzinfo=timezone.utc)
    notice = Notification(key="k", user_id=user.id, organization_id=made.org.id, profile_id=made.profiles["page"].id,
                          kind="expired", expires_at=ends)
    with app.app_context(), messages.url_context():
        email = messages.token_notice(notice, user, session.get(SocialProfile, made.profiles["page"].id),
                                      session.get(Organization, made.org.id), made.credentials["page"], "s")
    assert "expired on December 7, 2026, 3:00\u202fPM UTC+1." in email.body
