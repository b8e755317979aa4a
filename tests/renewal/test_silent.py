"""Silent renewal through the sandbox over HTTP: every network renews by its
own rule; dead grants are flagged with their reason; outages flag nothing."""
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.db import utcnow
from portal.models import InvalidReason, RenewalAttempt
from portal.networks import NETWORKS, adapter_for
from portal.networks.outcomes import Transient
from portal.renewal.credentials import token_set
from portal.renewal.health import check_credential
from portal.renewal.silent import Result, renew_silently
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


@pytest.mark.parametrize("network", [key for key in NETWORKS if key not in PAGE_NETWORKS])
def test_every_network_renews_silently(live, session, network):
    profile, before = connected(live, session, network)
    age(live, session, before)
    old, version = token_set(before), before.version

    outcome = renew_silently(profile.id, adapter_for(network), force=True)

    assert outcome.result == Result.RENEWED
    after = live.current(profile.id)
    assert after.version == version + 1
    new = token_set(after)
    assert (new.access_token, new.refresh_token) != (old.access_token, old.refresh_token)
    assert adapter_for(network).validate(new).ok
    attempts = session.exec(select(RenewalAttempt).where(RenewalAttempt.profile_id == profile.id)).all()
    assert [(a.mode, a.outcome) for a in attempts][-1] == ("silent", "renewed")


@pytest.mark.parametrize("network", PAGE_NETWORKS)
def test_a_page_is_renewed_by_a_consent_only(live, session, network):
    profile, before = connected(live, session, network)
    calls = len(live.calls(network))
    outcome = renew_silently(profile.id, adapter_for(network), force=True)
    assert outcome.result == Result.NEEDS_CONSENT
    assert len(live.calls(network)) == calls
    after = live.current(profile.id)
    assert (after.version, after.is_invalid) == (before.version, False)
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
    with pytest.raises(Transient):
        renew_silently(profile.id, adapter_for("tiktok"), force=True)
    version = credential.version
    unchanged = live.current(profile.id)
    assert not unchanged.is_invalid and unchanged.version == version
    live.app.config["NETWORK_TIMEOUT"] = 5
    assert renew_silently(profile.id, adapter_for("tiktok"), force=True).result == Result.RENEWED


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
