"""Which credentials the hourly health check asks the networks about, and in
which order: every current one not checked for a day (a fixed end without a
refresh token too), never-checked first, then the soonest-ending, each
network within its own hourly cap."""
from dataclasses import replace
from datetime import timedelta

from redis import Redis
from rq import Queue

from jobs.renewal import check_health
from portal import networks
from portal.db import utcnow
from tests import factories

DAY = timedelta(days=1)


def checked(app):
    """The profile ids whose check was enqueued, in order."""
    jobs = Queue(app.config["QUEUE_NAME"], connection=Redis.from_url(app.config["REDIS_URL"])).jobs
    assert all(job.func_name == "jobs.renewal.check_profile" for job in jobs)
    return [job.args[0] for job in jobs]


def test_every_kind_of_current_credential_is_checked_daily_never_checked_and_soonest_first(
        app, app_context, session):
    org = factories.organization(session)
    now = utcnow()

    def instagram(name, **fields):
        profile = factories.profile(session, org, network="instagram", name=name)
        factories.credential(session, profile, **fields)
        return profile.id

    # Instagram: a fixed end and no refresh token, which the check used to pass over.
    late = instagram("checked two days ago, ends in 50 days", expires_in=50 * DAY, last_checked_at=now - 2 * DAY)
    soon = instagram("checked two days ago, ends in 5 days", expires_in=5 * DAY, last_checked_at=now - 2 * DAY)
    never = instagram("never checked, ends in 40 days", expires_in=40 * DAY)
    instagram("checked an hour ago", expires_in=5 * DAY, last_checked_at=now - timedelta(hours=1))
    instagram("past its end: expired whatever a check says", expires_in=-DAY, last_checked_at=now - 2 * DAY)
    instagram("known dead", expires_in=5 * DAY, status="invalid", invalid_reason="password_changed")
    page = factories.profile(session, org, network="facebook")
    factories.credential(session, page, expires_in=None, token_type="page", last_checked_at=now - 3 * DAY)

    assert check_health(now=now) == 4
    enqueued = checked(app)
    assert [i for i in enqueued if i != page.id] == [never, soon, late] and page.id in enqueued


def test_each_network_is_checked_within_its_hourly_cap(app, app_context, session, monkeypatch):
    monkeypatch.setitem(networks.NETWORKS, "threads", replace(networks.NETWORKS["threads"], health_checks_per_hour=3))
    org = factories.organization(session)
    now = utcnow()
    ids = []
    for days in range(12, 2, -1):  # ten Threads profiles, the last ends soonest
        profile = factories.profile(session, org, network="threads")
        factories.credential(session, profile, expires_in=days * DAY, last_checked_at=now - 2 * DAY)
        ids.append(profile.id)
    x = factories.profile(session, org, network="x")
    factories.credential(session, x, expires_in=timedelta(hours=2), refresh_token="r")

    assert check_health(now=now) == 4
    enqueued = checked(app)
    assert [i for i in enqueued if i != x.id] == ids[::-1][:3] and x.id in enqueued  # the three ending soonest
