"""The failure branches of silent renewal and of health checks, run by the
worker's jobs against the sandbox network's fault modes: a permission the
grant lost, an answer no rule knows (the token kept), an access token the
network refuses (a refresh follows), a busy network (tried again later)."""
from datetime import timedelta

import pytest
from sqlmodel import select

from jobs.renewal import enqueue_renewal
from portal.db import utcnow
from portal.models import InvalidReason, RenewalAttempt
from portal.networks import adapter_for
from portal.queue import enqueue
from portal.renewal.credentials import token_set
from tests.conftest import run_jobs, scheduled_now
from tests.renewal.test_silent import age, connected

pytestmark = [pytest.mark.slow, pytest.mark.worker]


def renewal_job(app, profile, credential):
    """A silent renewal of `profile` in the worker, as the Renew button or the scan asks for it."""
    return enqueue_renewal(profile.id, seen_version=credential.version, force=True)


def health_check_job(profile):
    """A health check of `profile` in the worker, as `check_health` enqueues it."""
    from jobs.renewal import BACKOFF

    return enqueue("jobs.renewal.check_profile", profile.id, retry=BACKOFF)


def attempts(session, profile):
    return [(a.mode, a.outcome, a.reason) for a in session.exec(
        select(RenewalAttempt).where(RenewalAttempt.profile_id == profile.id).order_by(RenewalAttempt.id)).all()]


# --- a permission the grant lost ---------------------------------------------

@pytest.mark.parametrize("mode,network", [
    *(("silent", network) for network in ("instagram", "linkedin_personal", "tiktok", "youtube")),
    *(("health_check", network) for network in ("facebook", "linkedin_personal", "tiktok", "youtube", "pinterest")),
])
def test_a_permission_the_grant_lost_flags_the_token(live, session, app, mode, network):
    profile, credential = connected(live, session, network)
    if mode == "silent":
        age(live, session, credential)
    live.fault(network, "permission")

    job = renewal_job(app, profile, credential) if mode == "silent" else health_check_job(profile)
    assert run_jobs(app) == (1, 0)

    assert job.return_value(refresh=True) == "invalid"
    flagged = live.current(profile.id)
    assert (flagged.id, flagged.is_invalid, flagged.invalid_reason) == (
        credential.id, True, InvalidReason.PERMISSION_REVOKED)
    assert attempts(session, profile)[-1] == (mode, "failed", InvalidReason.PERMISSION_REVOKED)


# --- an answer no rule knows: the token is kept --------------------------------

@pytest.mark.parametrize("network", ["instagram", "x", "linkedin_personal", "tiktok", "youtube"])
def test_an_unexpected_answer_to_a_renewal_keeps_the_token(live, session, app, network):
    profile, credential = connected(live, session, network)
    age(live, session, credential)
    version, before = credential.version, token_set(credential)  # the rows are read again below
    live.fault(network, "unexpected")

    job = renewal_job(app, profile, credential)
    assert run_jobs(app) == (1, 0)

    assert job.return_value(refresh=True) == "failed"
    kept = live.current(profile.id)
    assert (kept.id, kept.version, kept.is_invalid) == (credential.id, version, False)
    assert token_set(kept) == before
    assert attempts(session, profile)[-1] == ("silent", "failed", "unexpected")
    assert adapter_for(network).validate(token_set(kept)).ok  # the network still takes it


@pytest.mark.parametrize("network", ["facebook", "x", "linkedin_personal", "tiktok", "youtube", "pinterest"])
def test_an_unexpected_answer_to_a_health_check_keeps_the_token_and_tries_again(live, session, app, network):
    profile, credential = connected(live, session, network)
    credential.last_check_ok = None  # never checked
    session.add(credential)
    session.commit()
    version = credential.version
    live.fault(network, "unexpected")

    job = health_check_job(profile)
    assert run_jobs(app) == (0, 1)

    kept = live.current(profile.id)
    assert (kept.id, kept.version, kept.is_invalid, kept.last_check_ok) == (credential.id, version, False, None)
    [(retried, _)] = scheduled_now(app)
    assert retried.id == job.id
    assert run_jobs(app) == (1, 0)  # the fault is spent: the next try finds the token working
    assert job.return_value(refresh=True) == "ok"
    checked = live.current(profile.id)
    assert checked.last_check_ok is True and not checked.is_invalid


# --- an access token the network refuses: a refresh follows -------------------

@pytest.mark.parametrize("network", ["x", "linkedin_personal", "tiktok", "youtube", "pinterest"])
def test_a_refused_access_token_is_refreshed_and_the_fresh_one_checked(live, session, app, network):
    profile, credential = connected(live, session, network)
    version, before = credential.version, token_set(credential)
    live.admin("tokens/expire_access", {"token": before.access_token})
    refreshes = len(live.calls(network, "refresh_token"))

    job = health_check_job(profile)
    assert run_jobs(app) == (1, 0)

    # A new access token; "renewed" only where the grant has no known end to move (X, Google): a
    # refresh moments after the consent leaves the others' ends where they were.
    assert job.return_value(refresh=True) == ("renewed" if network in ("x", "youtube") else "refreshed")
    renewed = live.current(profile.id)
    assert (renewed.id, renewed.version, renewed.is_invalid, renewed.last_check_ok) == (
        credential.id, version + 1, False, True)
    assert token_set(renewed).access_token != before.access_token
    assert len(live.calls(network, "refresh_token")) == refreshes + 1
    assert adapter_for(network).validate(token_set(renewed)).ok


@pytest.mark.parametrize("network", ["x", "tiktok", "youtube", "pinterest"])
def test_a_refused_access_token_whose_refresh_is_refused_too_is_flagged(live, session, app, network):
    profile, credential = connected(live, session, network)
    version = credential.version
    live.admin("tokens/revoke", {"token": live.cipher().unseal(credential.sealed_access_token)})

    job = health_check_job(profile)
    assert run_jobs(app) == (1, 0)

    assert job.return_value(refresh=True) == "invalid"
    flagged = live.current(profile.id)
    assert (flagged.id, flagged.version, flagged.is_invalid) == (credential.id, version + 1, True)
    assert attempts(session, profile)[-1][:2] == ("health_check", "failed")


# --- a busy network: tried again later, nothing changed meanwhile -------------

@pytest.mark.parametrize("mode", ["429", "500"])
def test_a_busy_network_postpones_a_renewal_until_it_answers(live, session, app, mode):
    profile, credential = connected(live, session, "tiktok")
    age(live, session, credential)
    version = credential.version
    live.fault("tiktok", mode)
    asked = utcnow()

    job = renewal_job(app, profile, credential)
    assert run_jobs(app) == (0, 1)

    waiting = live.current(profile.id)
    assert (waiting.version, waiting.is_invalid) == (version, False)
    assert attempts(session, profile) == [("interactive", "renewed", None)]  # the consent of `connected` only
    [(retried, at)] = scheduled_now(app)
    assert retried.id == job.id
    # The first of the backoff's waits (30 s), which is also what the network's Retry-After asked for.
    assert asked + timedelta(seconds=29) <= at <= utcnow() + timedelta(seconds=31)
    assert run_jobs(app) == (1, 0)
    assert job.return_value(refresh=True) == "refreshed"  # TikTok's refresh token keeps its end
    assert live.current(profile.id).version == version + 1


def test_a_busy_network_postpones_a_health_check_until_it_answers(live, session, app):
    profile, credential = connected(live, session, "linkedin_personal")
    credential.last_check_ok = None  # never checked
    session.add(credential)
    session.commit()
    version = credential.version
    live.fault("linkedin_personal", "429")

    job = health_check_job(profile)
    assert run_jobs(app) == (0, 1)

    waiting = live.current(profile.id)
    assert (waiting.version, waiting.is_invalid, waiting.last_check_ok) == (version, False, None)
    [(retried, _)] = scheduled_now(app)
    assert retried.id == job.id
    assert run_jobs(app) == (1, 0)
    assert job.return_value(refresh=True) == "ok"
    assert live.current(profile.id).last_check_ok is True
