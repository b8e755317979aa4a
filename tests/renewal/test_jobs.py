"""Renewal in the worker: proactive renewals, Try renewing all, health checks.
Real Redis, an RQ worker, the sandbox over HTTP."""
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job

from sqlmodel import select

from jobs.renewal import SECOND_LOOK_SECONDS, check_health, renew_due
from portal.db import utcnow
from portal.models import InvalidReason, Organization, SocialProfile, User
from tests import factories
from tests.conftest import run_jobs, scheduled_now
from portal.networks import NETWORKS
from tests.renewal.conftest import OWNER, adopt, agency
from tests.renewal.test_silent import age, connected

pytestmark = pytest.mark.slow


def queue_of(app):
    return Queue(app.config["QUEUE_NAME"], connection=Redis.from_url(app.config["REDIS_URL"]))


def organization_and_owner(session, profile):
    org = session.get(Organization, session.get(SocialProfile, profile.id).organization_id)
    return org, session.exec(select(User.id).where(User.email == OWNER)).one()


def test_try_renewing_all_reports_progress_and_outcomes(live, session, app):
    valid, credential = connected(live, session, "x", "x-1")
    credential.refresh_expires_at = utcnow() + timedelta(days=3)  # at risk, renewable
    session.add(credential)
    session.commit()
    org, owner_id = organization_and_owner(session, valid)
    healthy = factories.profile(session, org, network="x", external_id="x-3", name="Healthy")
    factories.credential(session, healthy, refresh_token="r", refresh_expires_at=utcnow() + timedelta(days=90))
    dead = factories.profile(session, org, network="x", external_id="x-2", name="Dead one")
    factories.credential(session, dead, status="invalid", invalid_reason="revoked")
    other_network = factories.profile(session, org, network="tiktok", external_id="tt-1")
    factories.credential(session, other_network)

    job = queue_of(app).enqueue("jobs.renewal.renew_all", org.id, "x", owner_id)
    assert run_jobs(app) == (1, 0)

    meta = Job.fetch(job.id, connection=queue_of(app).connection).get_meta(refresh=True)
    assert meta["finished"] and (meta["done"], meta["total"]) == (2, 2)
    assert meta["renewed"] == [valid.id]
    assert meta["needs_consent"] == [dead.id]
    assert meta["failed"] == [] and meta["organization_id"] == org.id


def test_try_renewing_all_counts_an_outage_as_failed_not_dead(live, session, app):
    profile, credential = connected(live, session, "pinterest", "pin-1")
    credential.refresh_expires_at = utcnow() + timedelta(days=2)
    session.add(credential)
    session.commit()
    org, owner_id = organization_and_owner(session, profile)
    live.fault("pinterest", "500", count=5)
    job = queue_of(app).enqueue("jobs.renewal.renew_all", org.id, "pinterest", owner_id)
    run_jobs(app)
    meta = Job.fetch(job.id, connection=queue_of(app).connection).get_meta(refresh=True)
    assert meta["failed"] == [[profile.id, "unavailable"]]
    assert not live.current(profile.id).is_invalid


def test_renew_due_renews_what_is_close_to_its_end(live, session, app):
    profile, credential = connected(live, session, "instagram", "ig-1")
    age(live, session, credential, seconds=55 * 86400)  # 60-day token with 5 days left
    credential.expires_at = utcnow() + timedelta(days=5)
    session.add(credential)
    session.commit()
    version = credential.version

    assert renew_due() == 1
    run_jobs(app)
    renewed = live.current(profile.id)
    assert renewed.version == version + 1 and renewed.expires_at > utcnow() + timedelta(days=50)
    assert renew_due() == 0, live.current(profile.id)  # renewed: nothing due any more


def test_health_check_catches_a_revoked_token_without_expiry(live, session, app):
    healthy, _ = connected(live, session, "facebook", "1001")
    org, _ = organization_and_owner(session, healthy)
    revoked_profile = factories.profile(session, org, network="facebook", external_id="1002", name="Revoked")
    issued = live.grant("facebook", "1002", email="page.admin@client.test", expires_in=None)
    adopt(session, revoked_profile, issued, token_type="page")
    live.admin("tokens/password_changed", {"token": issued["access_token"]})
    for profile_id in (healthy.id, revoked_profile.id):
        credential = live.current(profile_id)
        credential.last_checked_at = utcnow() - timedelta(days=2)
        session.add(credential)
        session.commit()

    assert check_health() == 2
    run_jobs(app)
    checked = live.current(healthy.id)
    assert not checked.is_invalid and checked.last_check_ok
    assert checked.last_checked_at > utcnow() - timedelta(minutes=1)
    flagged = live.current(revoked_profile.id)
    assert flagged.is_invalid and flagged.invalid_reason == InvalidReason.PASSWORD_CHANGED
    assert check_health() == 0


def test_linkedin_is_asked_twice_before_a_revoked_token_is_flagged(live, session, app):
    """LinkedIn answers "revoked" for freshly issued tokens too: the first such
    answer schedules a second look a little later, and only the second one
    flags the token."""
    profile, credential = connected(live, session, "linkedin_personal", "li-1")
    version = credential.version  # `credential` is read again below
    live.admin("tokens/revoke", {"token": live.cipher().unseal(credential.sealed_access_token)})
    queue = queue_of(app)
    introspections = len(live.calls("linkedin_personal"))

    first = queue.enqueue("jobs.renewal.check_profile", profile.id)
    started = utcnow()
    assert run_jobs(app) == (1, 0)
    ended = utcnow()

    assert first.return_value(refresh=True) == "recheck"
    kept = live.current(profile.id)
    assert not kept.is_invalid and kept.version == version
    [(second, at)] = scheduled_now(app)
    assert (second.func_name, second.args) == ("jobs.renewal.check_profile", (profile.id, True))
    second_look = timedelta(seconds=SECOND_LOOK_SECONDS)
    assert started + second_look - timedelta(seconds=1) <= at <= ended + second_look

    assert run_jobs(app) == (1, 0)

    assert second.return_value(refresh=True) == "invalid"
    flagged = live.current(profile.id)
    assert flagged.is_invalid and flagged.invalid_reason == InvalidReason.PERMISSION_REVOKED
    assert len(live.calls("linkedin_personal")) - introspections == 2
    assert scheduled_now(app) == []


def test_try_renewing_all_says_plainly_when_a_refresh_could_not_move_the_end(live, session, app, client):
    from tests.renewal.test_silent import ending_soon

    profile, _ = ending_soon(live, session, "tiktok", "tt-ending", days=3)
    org, owner_id = organization_and_owner(session, profile)
    job = queue_of(app).enqueue("jobs.renewal.renew_all", org.id, "tiktok", owner_id)
    run_jobs(app)

    meta = Job.fetch(job.id, connection=queue_of(app).connection).get_meta(refresh=True)
    assert meta["renewed"] == [] and meta["needs_consent"] == [profile.id] and meta["refreshed"] == [profile.id]
    live.login()
    page = live.http.get(f"/accounts/renew-all/{job.id}").text
    assert "No token was renewed without you." in page and "1 needs your consent on the network" in page
    assert "0 tokens renewed" not in page  # nothing green said of nothing
    assert "Access refreshed, but the connection still ends on " in page and "sign in again on TikTok." in page



@pytest.mark.parametrize("network", ["instagram", "threads"])
def test_a_password_changed_at_the_network_turns_the_profile_red_after_the_health_check(live, session, app, network):
    """A fixed end and no refresh token: green until its window, were it not
    asked about every day. (LinkedIn's answer, "revoked", is asked again 10
    seconds later first: test_linkedin_is_asked_twice_before_a_revocation_is_believed.)"""
    live.grant(network, "pw-1")
    _, _, profile = agency(session, network, "pw-1")
    live.login()
    live.renew_interactively(profile.id)
    credential = live.current(profile.id)
    assert credential.sealed_refresh_token is None and credential.expires_at is not None
    credential.last_checked_at = utcnow() - timedelta(days=2)
    session.add(credential)
    session.commit()
    page = live.http.get(f"/accounts/{profile.id}").text
    assert 'class="profile-head card status-valid"' in page

    live.admin("tokens/password_changed", {"token": live.cipher().unseal(credential.sealed_access_token)})
    assert check_health() == 1  # the scheduler's hourly run
    run_jobs(app)

    page = live.http.get(f"/accounts/{profile.id}").text
    assert 'class="profile-head card status-expired"' in page
    label = NETWORKS[network].label
    assert f"Password changed on {label}" in page
    assert live.current(profile.id).invalid_reason == InvalidReason.PASSWORD_CHANGED


def test_check_now_asks_the_network_and_says_what_it_answered(live, session, app):
    profiles = {}
    for external_id in ("th-1", "th-2"):
        live.grant("threads", external_id, email=f"{external_id}@demo.test")
        _, _, profiles[external_id] = agency(session, "threads", external_id, email=f"{external_id}@demo.test")
        live.login(f"{external_id}@demo.test")
        live.renew_interactively(profiles[external_id].id, email=f"{external_id}@demo.test")
    alive, dead = profiles["th-1"], profiles["th-2"]
    live.login("th-1@demo.test")
    token = live.csrf(f"/accounts/{alive.id}")
    page = live.http.get(f"/accounts/{alive.id}").text
    assert f'action="/profiles/{alive.id}/check"' in page and "Check now" in page

    works = live.http.post(f"/profiles/{alive.id}/check", data={"csrf_token": token})
    assert works.status_code == 303 and works.headers["location"] == f"/accounts/{alive.id}"
    assert ("success", "Threads says the token of Northwind Café works.") in live.flashes(f"/accounts/{alive.id}")
    again = live.http.post(f"/profiles/{alive.id}/check", data={"csrf_token": token})
    assert again.status_code == 303
    assert ("info", "Northwind Café was checked moments ago: try again in a few seconds.") in live.flashes("/")

    live.login("th-2@demo.test")
    token = live.csrf("/accounts")
    credential = live.current(dead.id)
    live.admin("tokens/password_changed", {"token": live.cipher().unseal(credential.sealed_access_token)})
    answer = live.http.post(f"/profiles/{dead.id}/check", data={"csrf_token": token, "next": "/accounts"})
    assert answer.status_code == 303 and answer.headers["location"] == "/accounts"
    assert ("error", "Threads says the token of Northwind Café no longer works: Password changed on Threads. "
                     "Renew it.") in live.flashes("/accounts")
    assert 'class="profile-head card status-expired"' in live.http.get(f"/accounts/{dead.id}").text
