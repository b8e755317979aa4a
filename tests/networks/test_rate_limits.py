"""Rate limits are transient everywhere: each network's documented answer to
too many calls keeps the token, and says when to come back where the network
does (`Retry-After`, Meta's business use case usage header, X's
`x-rate-limit-reset`); the renewal jobs wait at least that long before their
next try."""
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from jobs.renewal import BACKOFF, LONGEST_WAIT
from portal.db import utcnow
from portal.networks import AccessTokenRejected, TokenSet, Transient
from portal.networks.base import retry_after
from portal.queue import enqueue
from tests import factories as f
from tests.conftest import run_jobs
from tests.networks.replay import fixture

TOKENS = TokenSet("access", "refresh", expires_at=utcnow() + timedelta(hours=1),
                  refresh_expires_at=utcnow() + timedelta(days=200), scopes="user.info.basic", token_type="page")

# (network, answer, what the adapter does, seconds it says to wait)
RATE_LIMITS = [
    ("facebook", "facebook/rate_limited_80001", lambda a: a.validate(TOKENS), 15 * 60),
    ("instagram", "instagram/rate_limited_80002", lambda a: a.validate(TOKENS), 4 * 60),
    ("linkedin_personal", "linkedin/rate_limited", lambda a: a.validate(TOKENS), None),
    ("tiktok", "tiktok/rate_limited", lambda a: a.validate(TOKENS), None),
    ("google_business", "google/rate_limited", lambda a: a.exchange_code("code", "v", "https://k.example/cb"), None),
    ("pinterest", "pinterest/rate_limited", lambda a: a.validate(TOKENS), None),
]


@pytest.mark.parametrize("network,answer,call,wait", RATE_LIMITS, ids=[r[0] for r in RATE_LIMITS])
def test_a_rate_limit_keeps_the_token_and_says_when_to_come_back(replay, network, answer, call, wait):
    if network == "google_business":
        replay.serve("google/token")
    replay.serve(answer)
    with pytest.raises(Transient) as caught:
        call(replay.adapter(network))
    assert not isinstance(caught.value, AccessTokenRejected)
    assert caught.value.retry_after == wait


def test_x_says_when_its_window_resets(replay):
    reset = int(utcnow().timestamp()) + 600
    replay.serve("x/rate_limited", headers={**fixture("x/rate_limited")["headers"], "x-rate-limit-reset": str(reset)})
    with pytest.raises(Transient) as caught:
        replay.adapter("x").validate(TOKENS)
    assert 595 <= caught.value.retry_after <= 600


@pytest.mark.parametrize("value, seconds", [
    ("120", 120), ("0", 0), (None, None), ("soon", None),
    ("Wed, 21 Oct 2026 07:28:00 GMT", 60),  # an HTTP date, a minute away
])
def test_retry_after_is_seconds_or_an_http_date(value, seconds):
    assert retry_after(value, now=datetime(2026, 10, 21, 7, 27, tzinfo=UTC)) == seconds


def test_the_next_try_of_a_health_check_waits_as_long_as_meta_says(app, session, replay, monkeypatch):
    replay.serve("facebook/rate_limited_80001")
    monkeypatch.setattr("jobs.renewal.adapter_for", lambda key: replay.adapter(key))
    with app.app_context():
        profile = f.profile(session, f.organization(session), network="facebook")
        f.credential(session, profile, token_type="page", expires_in=None)
        job = enqueue("jobs.renewal.check_profile", profile.id, retry=BACKOFF)
    started = utcnow()
    finished, failed = run_jobs(app)
    assert (finished, failed) == (0, 1)
    registry = ScheduledJobRegistry(queue=Queue(app.config["QUEUE_NAME"],
                                                connection=Redis.from_url(app.config["REDIS_URL"])))
    [scheduled] = registry.get_job_ids()
    assert scheduled == job.id
    when = registry.get_scheduled_time(job.id).replace(tzinfo=UTC)
    # RQ keeps whole seconds
    assert started + timedelta(minutes=15, seconds=-1) <= when <= utcnow() + timedelta(minutes=15, seconds=1)
    assert BACKOFF.intervals[0] < 15 * 60 < LONGEST_WAIT  # without the header: 30 s
