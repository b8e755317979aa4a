"""Silent renewal through the sandbox over HTTP: every network renews by its
own rule; dead grants are flagged with their reason; outages flag nothing."""
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from portal.db import utcnow
from portal.models import InvalidReason, RenewalAttempt
from portal.networks import NETWORKS, adapter_for
from portal.networks.outcomes import Transient
from portal.renewal.credentials import token_set
from portal.renewal.health import check_credential
from portal.renewal.silent import Result, renew_silently
from portal.status import effective_expiry
from tests.renewal.conftest import agency

pytestmark = pytest.mark.slow

TWO_DAYS = 2 * 86400


def connected(live, session, network, external_id="5001"):
    """A profile renewed once through consent: its credential is what the adapter stores.
    The LinkedIn app is one approved for refresh tokens, so that it renews silently."""
    live.admin("clients/linkedin", {"approved_partner": True})
    live.grant(network, external_id)
    _, _, profile = agency(session, network, external_id)
    live.login()
    live.renew_interactively(profile.id)
    credential = live.current(profile.id)
    assert not credential.is_invalid
    return profile, credential


def age(live, session, credential, seconds=TWO_DAYS):
    """Make the credential (and its grant at the network) look `seconds` older."""
    access = live.cipher().unseal(credential.sealed_access_token)
    live.admin("tokens/backdate", {"token": access, "seconds": seconds})
    credential.last_refreshed_at = credential.created_at = utcnow() - timedelta(seconds=seconds)
    session.add(credential)
    session.commit()


# A Facebook Page's token (Instagram business accounts come through their Page)
# does not expire: its data access does, and only a consent renews that.
PAGE_NETWORKS = ("facebook", "instagram_business")


# Networks whose refresh leaves the refresh token's end where it was: TikTok's
# `refresh_expires_in` counts from the consent, LinkedIn's refresh tokens are
# not extended by refreshing. Their refresh is an access refresh, not a renewal.
KEEP_THEIR_END = ("tiktok", "linkedin_personal", "linkedin_company")
# Networks whose grant has no known end: a refresh exercises it, which is all a renewal can do.
NO_END = ("x", "youtube", "google_business")
# Networks whose refresh gives a new lifetime from now: it renews once some of the old one is gone.
FRESH_LIFETIME = ("instagram", "threads", "pinterest")


@pytest.mark.parametrize("network", [key for key in NETWORKS if key not in PAGE_NETWORKS])
def test_every_network_renews_silently(live, session, network):
    profile, before = connected(live, session, network)
    age(live, session, before)
    old, version, end = token_set(before), before.version, effective_expiry(before)

    outcome = renew_silently(profile.id, adapter_for(network), force=True)

    after = live.current(profile.id)
    assert after.version == version + 1 and outcome.ends_at == effective_expiry(after)
    # "Renewed" when the end moved; a refresh moments after the consent gains nothing on any network.
    expected = Result.RENEWED if network in NO_END else Result.REFRESHED
    assert outcome.result == expected
    if expected == Result.REFRESHED:
        assert abs(effective_expiry(after) - end) < timedelta(minutes=1)
    new = token_set(after)
    assert (new.access_token, new.refresh_token) != (old.access_token, old.refresh_token)
    assert adapter_for(network).validate(new).ok
    attempts = session.exec(select(RenewalAttempt).where(RenewalAttempt.profile_id == profile.id)).all()
    assert [(a.mode, a.outcome) for a in attempts][-1] == ("silent", expected)


@pytest.mark.parametrize("network", FRESH_LIFETIME)
def test_a_refresh_that_gives_a_new_lifetime_renews(live, session, network):
    profile, credential = connected(live, session, network)
    age(live, session, credential)
    # Stored as it was two days ago, five days before its end.
    if credential.can_refresh_silently:
        credential.refresh_expires_at = utcnow() + timedelta(days=5)
    else:
        credential.expires_at = utcnow() + timedelta(days=5)
    session.add(credential)
    session.commit()

    outcome = renew_silently(profile.id, adapter_for(network), force=True)

    assert outcome.result == Result.RENEWED
    assert effective_expiry(live.current(profile.id)) > utcnow() + timedelta(days=30)


@pytest.mark.parametrize("network", PAGE_NETWORKS)
def test_a_page_is_renewed_by_a_consent_only(live, session, network):
    profile, before = connected(live, session, network)
    version = before.version  # `before` is the row `live.current` reads again
    calls = len(live.calls(network))
    outcome = renew_silently(profile.id, adapter_for(network), force=True)
    assert outcome.result == Result.NEEDS_CONSENT
    assert len(live.calls(network)) == calls
    after = live.current(profile.id)
    assert (after.id, after.version, after.is_invalid) == (before.id, version, False)
    assert after.expires_at is None and after.data_access_expires_at > utcnow() + timedelta(days=80)


def test_a_version_seen_before_someone_else_renewed_sends_nothing(live, session):
    profile, credential = connected(live, session, "x")
    renew_silently(profile.id, adapter_for("x"), force=True)
    calls = len(live.calls("x", "refresh_token"))
    outcome = renew_silently(profile.id, adapter_for("x"), seen_version=credential.version, force=True)
    assert outcome.result == Result.ALREADY_RENEWED
    assert len(live.calls("x", "refresh_token")) == calls


def test_instagram_under_a_day_old_is_not_sent(live, session):
    profile, _ = connected(live, session, "instagram")
    calls = len(live.calls("instagram"))
    outcome = renew_silently(profile.id, adapter_for("instagram"), force=True)
    assert outcome.result == Result.NOT_YET and outcome.not_before > utcnow()
    assert len(live.calls("instagram")) == calls


# The reason each network's answer gives. TikTok ("Refresh token is invalid or
# expired.") and Google ("Token has been expired or revoked.") do not tell a
# revoked grant from an expired one: their words read as expired. Threads (Meta
# 190/467, "the user logged out") and Pinterest name no cause.
@pytest.mark.parametrize("network,action,reason", [
    ("instagram", "password_changed", InvalidReason.PASSWORD_CHANGED),
    ("threads", "revoke", InvalidReason.UNKNOWN),
    ("tiktok", "revoke", InvalidReason.EXPIRED),
    ("pinterest", "revoke", InvalidReason.UNKNOWN),
    ("youtube", "revoke", InvalidReason.EXPIRED),
])
def test_a_dead_grant_is_flagged_with_its_reason(live, session, network, action, reason):
    profile, credential = connected(live, session, network)
    age(live, session, credential)
    live.admin(f"tokens/{action}", {"token": live.cipher().unseal(credential.sealed_access_token)})
    outcome = renew_silently(profile.id, adapter_for(network), force=True)
    assert outcome.result == Result.INVALID
    flagged = live.current(profile.id)
    assert flagged.is_invalid and flagged.invalid_reason == outcome.reason
    assert outcome.reason == reason


def test_a_dead_page_token_is_found_by_its_health_check(live, session):
    profile, credential = connected(live, session, "facebook")
    live.admin("tokens/password_changed", {"token": live.cipher().unseal(credential.sealed_access_token)})
    assert check_credential(profile.id, adapter_for("facebook")) == "invalid"
    assert live.current(profile.id).invalid_reason == InvalidReason.PASSWORD_CHANGED


def test_reusing_a_spent_x_refresh_token_kills_the_grant_and_is_flagged(live, session):
    profile, credential = connected(live, session, "x")
    stale = token_set(credential)
    adapter_for("x").refresh(stale)  # someone refreshed outside the lock: our copy is spent
    outcome = renew_silently(profile.id, adapter_for("x"), force=True)
    assert outcome.result == Result.INVALID
    assert live.current(profile.id).is_invalid


@pytest.mark.parametrize("mode", ["500", "429", "timeout"])
def test_an_outage_flags_nothing_and_renewal_succeeds_once_it_ends(live, session, mode):
    profile, credential = connected(live, session, "tiktok")
    live.app.config["NETWORK_TIMEOUT"] = 0.5  # shorter than the sandbox's stall
    live.fault("tiktok", mode, count=1)
    version = credential.version
    with pytest.raises(Transient):
        renew_silently(profile.id, adapter_for("tiktok"), force=True)
    unchanged = live.current(profile.id)
    assert not unchanged.is_invalid and unchanged.version == version
    live.app.config["NETWORK_TIMEOUT"] = 5
    assert renew_silently(profile.id, adapter_for("tiktok"), force=True).result == Result.REFRESHED


def test_a_silent_renewal_leads_to_the_fragment_its_form_names(live, session):
    """Manage Accounts' row and the sign-in warning's item turn green in place:
    the renewal redirects htmx to the fragment the form names, which the
    client follows; a plain form gets a redirect to its next page."""
    profile, _ = connected(live, session, "x")
    token = live.csrf("/")
    for fragment, expected in [(f"/notifications/login-warning/items/{profile.id}", 'id="login-warning-item-'),
                               (f"/accounts/{profile.id}/row?next=%2Faccounts", f'id="profile-row-{profile.id}"')]:
        response = live.http.post(f"/profiles/{profile.id}/renew", follow_redirects=True,
                                  data={"csrf_token": token, "next": "/accounts", "fragment": fragment},
                                  headers={"HX-Request": "true"})
        assert [step.status_code for step in response.history] == [303]
        assert response.status_code == 200 and expected in response.text and "is renewed." in response.text
        assert response.headers["HX-Trigger"] == "tokens-changed"
    plain = live.http.post(f"/profiles/{profile.id}/renew", data={"csrf_token": token, "next": "/accounts"})
    assert plain.status_code == 303 and plain.headers["location"] == "/accounts"


def ending_soon(live, session, network, external_id, days=6):
    """A profile whose grant's refresh token itself ends in `days` days at the network."""
    from tests.renewal.conftest import adopt

    issued = live.grant(network, external_id, refresh_expires_in=days * 86400)
    _, _, profile = agency(session, network, external_id)
    credential = adopt(session, profile, issued, last_check_ok=True)
    return profile, credential


def test_renew_token_goes_on_to_the_consent_when_a_refresh_cannot_move_the_end(live, session):
    """TikTok's refresh token ends in 6 days: a refresh gives a new access token
    but the same end. In the row, the dropdown and the warning after sign-in
    alike, Renew Token goes on to TikTok's consent, never says "renewed"."""
    profile, credential = ending_soon(live, session, "tiktok", "tt-ending")
    end, version = effective_expiry(credential), credential.version
    live.login()
    token = live.csrf("/")
    forms = [
        {"fragment": f"/accounts/{profile.id}/row?next=%2Faccounts"},  # the row of Manage Accounts
        {},  # the "Expired Tokens" dropdown: a plain form of htmx-boosted buttons
        {"fragment": f"/notifications/login-warning/items/{profile.id}"},  # the warning after sign-in
    ]
    for form in forms:
        response = live.http.post(f"/profiles/{profile.id}/renew", headers={"HX-Request": "true"},
                                  data={"csrf_token": token, "next": "/accounts", **form})
        assert response.status_code == 200, response.text
        consent = response.headers["HX-Redirect"]
        assert urlsplit(consent).path.endswith("/www.tiktok.com/v2/auth/authorize/") and "state=" in consent
        assert "is renewed" not in response.text
    plain = live.http.post(f"/profiles/{profile.id}/renew", data={"csrf_token": token, "next": "/accounts"})
    assert plain.status_code == 303 and "/www.tiktok.com/v2/auth/authorize/" in plain.headers["location"]
    assert not any("is renewed" in text for _, text in live.flashes("/accounts"))

    refreshed = live.current(profile.id)
    assert refreshed.version > version and abs(effective_expiry(refreshed) - end) < timedelta(minutes=1)
    attempts = session.exec(select(RenewalAttempt).where(RenewalAttempt.profile_id == profile.id)).all()
    assert {(a.mode, a.outcome) for a in attempts} == {("silent", "refreshed")}
    # The profile's page says it plainly, and still counts the days that are left.
    page = live.http.get(f"/accounts/{profile.id}").text
    assert "Access refreshed" in page and "5 days left" in page  # 6 days less the seconds gone

    # The consent renews it: the end moves, and only now is it "renewed".
    back = live.consent(plain.headers["location"])
    live.http.get(back)
    renewed = live.current(profile.id)
    assert effective_expiry(renewed) > end + timedelta(days=300)
