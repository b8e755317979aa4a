"""The token API against the sandbox network over HTTP: callers racing for
a token inside its margin, and tokens tools report as refused."""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx2
import pytest
from sqlmodel import select

from jobs.scan import scan
from portal.db import utcnow
from portal.models import Delivery, InvalidReason, Notification, Organization, SocialProfile
from portal.queue import redis, redis_key
from tests.api.conftest import make_key
from tests.conftest import run_jobs
from tests.renewal.test_silent import connected

pytestmark = pytest.mark.slow

CALLERS = 20


def api_client(live, secret):
    """A tool: its key and nothing else (no cookie of the signed-in person)."""
    return httpx2.Client(base_url=live.base_url, timeout=60, trust_env=False,
                         headers={"Authorization": f"Bearer {secret}"})


def keyed(live, session, app, profile):
    org = session.get(Organization, session.get(SocialProfile, profile.id).organization_id)
    secret, _ = make_key(app, session, org)
    return secret


def test_twenty_callers_inside_the_margin_cause_one_refresh_at_the_network(live, session, app):
    profile, credential = connected(live, session, "x")
    # The access token (as Keepalive stores it) ends in two minutes: inside the 600 s margin.
    credential.expires_at = utcnow() + timedelta(minutes=2)
    session.add(credential)
    session.commit()
    version = credential.version
    secret = keyed(live, session, app, profile)
    refreshes = len(live.calls("x", "refresh_token"))
    start = threading.Barrier(CALLERS)

    def ask(_):
        with api_client(live, secret) as tool:
            start.wait()
            return tool.get(f"/api/v1/profiles/{profile.id}/token")

    with ThreadPoolExecutor(CALLERS) as pool:
        answers = list(pool.map(ask, range(CALLERS)))

    assert [answer.status_code for answer in answers] == [200] * CALLERS, [a.text for a in answers]
    assert len(live.calls("x", "refresh_token")) - refreshes == 1
    handed = {answer.json()["access_token"] for answer in answers}
    current = live.current(profile.id)
    assert current.version == version + 1 and not current.is_invalid
    assert handed == {live.cipher().unseal(current.sealed_access_token)}
    # Those who came after the refresh find a token that lives long enough.
    assert any(answer.json()["refreshed"] for answer in answers)
    assert all(answer.headers["Cache-Control"] == "no-store" for answer in answers)


def test_force_refresh_refreshes_a_token_that_lives_long(live, session, app):
    profile, credential = connected(live, session, "x")
    secret = keyed(live, session, app, profile)
    refreshes = len(live.calls("x", "refresh_token"))
    with api_client(live, secret) as tool:
        plain = tool.get(f"/api/v1/profiles/{profile.id}/token").json()
        forced = tool.get(f"/api/v1/profiles/{profile.id}/token?force_refresh=true").json()
    assert plain["refreshed"] is False and forced["refreshed"] is True
    assert forced["access_token"] != plain["access_token"]
    assert len(live.calls("x", "refresh_token")) - refreshes == 1


def test_a_token_dead_at_the_network_is_409_when_its_refresh_is_refused(live, session, app):
    profile, credential = connected(live, session, "x")
    live.admin("tokens/revoke", {"token": live.cipher().unseal(credential.sealed_refresh_token)})
    secret = keyed(live, session, app, profile)
    with api_client(live, secret) as tool:
        answer = tool.get(f"/api/v1/profiles/{profile.id}/token?force_refresh=true")
    assert answer.status_code == 409 and answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["renewal_url"].endswith(f"/accounts/{profile.id}")
    assert live.current(profile.id).is_invalid


def report(live, secret, profile):
    with api_client(live, secret) as tool:
        return tool.post(f"/api/v1/profiles/{profile.id}/token/report", json={"http_status": 401})


def told(session):
    session.rollback()
    return (len(session.exec(select(Notification)).all()),
            len(session.exec(select(Delivery).where(Delivery.channel == "email")).all()))


def test_a_reported_dead_token_is_marked_and_its_people_told_once(live, session, app, smtp_server):
    profile, credential = connected(live, session, "facebook")
    live.admin("tokens/password_changed", {"token": live.cipher().unseal(credential.sealed_access_token)})
    secret = keyed(live, session, app, profile)

    assert report(live, secret, profile).json() == {"status": "checking"}
    run_jobs(app)

    flagged = live.current(profile.id)
    assert flagged.is_invalid and flagged.invalid_reason == InvalidReason.PASSWORD_CHANGED
    assert told(session) == (1, 1)  # the Owner: an in-app notice and an email, now
    assert len(smtp_server) == 1
    # The scan finds them written; a second report finds nothing left to tell.
    with app.app_context():
        scan()
    redis_gate = redis_key(f"api:reported:{profile.id}")
    with app.app_context():
        redis().delete(redis_gate)
    assert report(live, secret, profile).json() == {"status": "checking"}
    run_jobs(app)
    assert told(session) == (1, 1) and len(smtp_server) == 1


def test_a_reported_live_token_is_left_alone(live, session, app):
    profile, credential = connected(live, session, "facebook")
    secret = keyed(live, session, app, profile)
    assert report(live, secret, profile).status_code == 202
    run_jobs(app)
    current = live.current(profile.id)
    assert not current.is_invalid and current.last_check_ok
    assert told(session) == (0, 0)


def test_the_readme_example_fetches_a_token_and_uses_it_at_the_sandbox(live, session, app):
    """README, "The token API": find a live X profile, take its token, call X with it."""
    profile, _ = connected(live, session, "x")
    secret = keyed(live, session, app, profile)
    with api_client(live, secret) as tool:
        profiles = tool.get("/api/v1/profiles", params={"network": "x"}).json()["data"]
        assert [row["id"] for row in profiles] == [profile.id]
        token = tool.get(f"/api/v1/profiles/{profiles[0]['id']}/token").json()["access_token"]
    me = httpx2.get(f"{live.base_url}/sandbox/api.x.com/2/users/me", headers={"Authorization": f"Bearer {token}"},
                    trust_env=False)
    assert me.status_code == 200 and me.json()["data"]["id"] == "5001"
