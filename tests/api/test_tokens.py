"""Tokens out of the API without a network call: the live token as stored,
dead ones refused with what to do, the fallback's fair choice, reports."""
import logging
from collections import Counter
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from sqlmodel import select

from portal.api import tokens
from portal.db import utcnow
from portal.models import AuditEvent, Credential
from portal.networks.outcomes import Transient
from tests import factories
from tests.api.conftest import make_key


@pytest.fixture
def agency(session):
    return factories.agency(
        session, brands=["north"],
        profiles={
            "page": {"network": "facebook", "credential": {
                "access_token": "page-token", "refresh_token": "long-lived-user-token", "token_type": "page",
                "scopes": "pages_show_list,pages_manage_posts", "expires_in": None}},
            "x": {"network": "x", "credential": {"access_token": "x-access", "refresh_token": "x-refresh",
                                                  "expires_in": timedelta(hours=2), "scopes": "tweet.read offline.access"}},
            "dead": {"network": "x", "credential": {"status": "invalid", "invalid_reason": "app_removed"}},
            "ended": {"network": "instagram", "credential": {"expires_in": timedelta(seconds=-5)}},
            "none": {"network": "tiktok"},
            **{f"ig{n}": {"network": "instagram_business", "brands": ["north"] if n < 2 else [],
                          "credential": {"access_token": f"ig-token-{n}", "token_type": "page", "expires_in": None}}
               for n in range(3)},
            "ig_dead": {"network": "instagram_business",
                        "credential": {"status": "invalid", "invalid_reason": "password_changed"}},
            "ig_failing": {"network": "instagram_business", "credential": {
                "token_type": "page", "expires_in": None, "last_check_ok": False}},
            "ig_ending": {"network": "instagram_business", "credential": {"expires_in": timedelta(minutes=5)}},
            "ig_expiring": {"network": "instagram_business", "credential": {
                "token_type": "page", "expires_in": None, "data_access_expires_at": utcnow() + timedelta(days=2)}},
        },
    )


@pytest.fixture
def keyed(app, session, api, agency):
    api.secret, _ = make_key(app, session, agency.org)
    return api


def test_the_live_token_and_never_a_refresh_token(keyed, agency, session, caplog):
    caplog.set_level(logging.DEBUG)
    answer = keyed.get(f"/api/v1/profiles/{agency.profiles['page'].id}/token")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["access_token"] == "page-token" and body["token_type"] == "page"
    assert body["scopes"] == ["pages_show_list", "pages_manage_posts"]
    assert body["refreshed"] is False and body["profile"]["id"] == agency.profiles["page"].id
    assert "long-lived-user-token" not in answer.get_data(as_text=True)
    assert not any("page-token" in record.getMessage() for record in caplog.records)


def test_a_token_that_lives_long_enough_is_read_without_a_write(keyed, agency, session):
    profile = agency.profiles["x"]
    keyed.get(f"/api/v1/profiles/{profile.id}/token")  # the key's first use is written
    before = session.get(Credential, agency.credentials["x"].id).version
    body = keyed.get(f"/api/v1/profiles/{profile.id}/token?min_valid_seconds=3600").get_json()
    assert body["access_token"] == "x-access" and body["refreshed"] is False
    session.rollback()
    session.expire_all()
    assert session.get(Credential, agency.credentials["x"].id).version == before


@pytest.mark.parametrize(("key", "reason"), [("dead", "app_removed"), ("ended", "expired"), ("none", "unknown")])
def test_a_dead_token_is_409_with_the_reason_and_the_renewal_page(keyed, agency, key, reason):
    profile = agency.profiles[key]
    answer = keyed.get(f"/api/v1/profiles/{profile.id}/token")
    assert answer.status_code == 409 and answer.mimetype == "application/problem+json"
    body = answer.get_json(force=True)
    assert body["type"].endswith("#problem-token-dead") and body["reason"] == reason
    assert body["renewal_url"] == f"http://localhost/accounts/{profile.id}"


class Silent:
    """A network that does not answer now, and says when to come back."""

    def refresh(self, tokens):
        raise Transient("503 Service Unavailable", retry_after=42)


def test_a_token_that_ended_while_its_network_does_not_answer_is_503_and_kept(keyed, agency, session, monkeypatch):
    ended = agency.credentials["x"]
    ended.expires_at = utcnow() - timedelta(seconds=5)
    session.add(ended)
    session.commit()
    monkeypatch.setattr(tokens, "adapter_for", lambda network: Silent())
    answer = keyed.get(f"/api/v1/profiles/{agency.profiles['x'].id}/token")
    assert answer.status_code == 503 and answer.mimetype == "application/problem+json"
    assert answer.headers["Retry-After"] == "42" and answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json(force=True)
    assert body["type"].endswith("#problem-unavailable") and "access_token" not in body
    session.rollback()
    session.expire_all()
    assert not session.get(Credential, ended.id).is_invalid  # the network may answer later: nothing is marked


def test_the_fallback_spreads_use_and_never_hands_out_a_dead_or_expiring_token(keyed, agency):
    healthy = {agency.profiles[f"ig{n}"].id for n in range(3)}
    answers = [keyed.get("/api/v1/networks/instagram_business/token").get_json() for _ in range(9)]
    handed = [answer["profile"]["id"] for answer in answers]
    assert set(handed) == healthy
    assert Counter(handed) == {profile_id: 3 for profile_id in healthy}
    # Least recently handed out first: a full round before any repeats.
    assert len(set(handed[:3])) == 3 and handed[3:6] == handed[:3]
    assert all(answer["access_token"].startswith("ig-token-") for answer in answers)


def test_the_fallback_skips_excluded_profiles_and_keeps_to_a_brand(keyed, agency):
    ig0, ig1, ig2 = (agency.profiles[f"ig{n}"].id for n in range(3))
    path = f"/api/v1/networks/instagram_business/token?exclude={ig0}&exclude={ig1}"
    assert {keyed.get(path).get_json()["profile"]["id"] for _ in range(3)} == {ig2}
    brand = agency.brands["north"].id
    assert {keyed.get(f"/api/v1/networks/instagram_business/token?brand={brand}").get_json()["profile"]["id"]
            for _ in range(4)} == {ig0, ig1}
    none_left = keyed.get(f"/api/v1/networks/instagram_business/token?exclude={ig0}&exclude={ig1}&exclude={ig2}")
    assert none_left.status_code == 409
    assert none_left.get_json(force=True)["type"].endswith("#problem-no-live-token")


def test_an_unknown_network_is_404(keyed):
    assert keyed.get("/api/v1/networks/myspace/token").status_code == 404


def test_a_report_is_checked_once_a_minute_and_logged(app, keyed, agency, session):
    profile = agency.profiles["x"]
    path = f"/api/v1/profiles/{profile.id}/token/report"
    first = keyed.post(path, json={"http_status": 401, "error_code": "invalid_token"})
    assert first.status_code == 202 and first.get_json() == {"status": "checking"}
    assert keyed.post(path, json={}).get_json() == {"status": "already_checking"}
    queue = Queue(app.config["QUEUE_NAME"], connection=Redis.from_url(app.config["REDIS_URL"]))
    assert [job.func_name for job in queue.jobs] == ["jobs.scan.check_reported"]
    assert queue.jobs[0].args == (profile.id,)
    reported = session.exec(select(AuditEvent).where(AuditEvent.action == "token.reported")).all()
    assert len(reported) == 2 and reported[0].profile_id == profile.id
    assert reported[0].data["said"] == "HTTP 401, invalid_token" and reported[0].actor_name == "Publisher"


@pytest.mark.parametrize("body", [{"http_status": 99}, {"error_code": "x" * 101}, {"other": 1}, [1, 2],
                                  {"error_code": "a\x00b"}, {"http_status": 401.5}])
def test_a_bad_report_is_a_400_problem(keyed, agency, body):
    answer = keyed.post(f"/api/v1/profiles/{agency.profiles['x'].id}/token/report", json=body)
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"


def test_a_token_that_dies_after_the_network_was_listed_is_not_handed_out(keyed, agency, session):
    """The fallback keeps its list of healthy profiles a few seconds; the one
    it chooses is read again before it is handed out."""
    assert keyed.get("/api/v1/networks/instagram_business/token").status_code == 200  # the list is kept
    dying = agency.credentials["ig1"]
    dying.status, dying.invalid_reason = "invalid", "password_changed"
    session.add(dying)
    session.commit()
    handed = {keyed.get("/api/v1/networks/instagram_business/token").get_json()["profile"]["id"] for _ in range(6)}
    assert handed == {agency.profiles["ig0"].id, agency.profiles["ig2"].id}
