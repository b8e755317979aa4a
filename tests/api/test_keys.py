"""Who the API answers: a valid key of the right agency, brand and scope,
within its rate limit; nobody by cookie."""
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

from portal.api import limits
from portal.db import utcnow
from portal.models import ApiKey, ApiScope, AuditEvent
from tests import factories
from tests.api.conftest import make_key


@pytest.fixture
def agency(session):
    return factories.agency(
        session, brands=["north", "south"],
        profiles={"north_page": {"network": "facebook", "brands": ["north"], "credential": {"token_type": "page"}},
                  "south_x": {"network": "x", "brands": ["south"], "credential": {"refresh_token": "r-south"}}},
    )


@pytest.fixture
def other(session):
    return factories.agency(session, name="Other Agency", people={"owner": {"role": "owner", "email": "o@other.test"}},
                            brands=["theirs"],
                            profiles={"theirs": {"network": "facebook", "brands": ["theirs"], "credential": {}}})


def problem(response, status, kind):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"].endswith(f"#problem-{kind}")
    assert response.headers["Cache-Control"] == "no-store"
    return body


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ka_live_not-a-key", "Basic a2E6bGl2ZQ==",
                                           "Bearer " + "x" * 500])
def test_a_missing_or_wrong_key_is_401(api, agency, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = api.get("/api/v1/profiles", secret="", headers=headers)
    problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="Keepalive API"')


@pytest.mark.parametrize(("fields", "detail"), [
    ({"revoked": True}, "revoked"),
    ({"expires_in": timedelta(seconds=-1)}, "expired"),
])
def test_revoked_and_expired_keys_are_401(app, session, api, agency, fields, detail):
    secret, _ = make_key(app, session, agency.org, **fields)
    body = problem(api.get("/api/v1/profiles", secret=secret), 401, "unauthorized")
    assert detail in body["detail"]


def test_a_key_that_expires_later_works(app, session, api, agency):
    secret, _ = make_key(app, session, agency.org, expires_in=timedelta(hours=1))
    assert api.get("/api/v1/profiles", secret=secret).status_code == 200


def test_a_signed_in_browser_is_not_a_key(auth, api, agency):
    """Cookies are not read by the API: a signed-in person's browser gets 401."""
    auth.login("owner@example.test")
    assert auth.client.get("/accounts").status_code == 200
    problem(api.get("/api/v1/profiles", secret=""), 401, "unauthorized")


@pytest.mark.parametrize(("scope", "path"), [
    (ApiScope.PROFILES_READ, "/api/v1/profiles"),
    (ApiScope.PROFILES_READ, "/api/v1/profiles/{north_page}"),
    (ApiScope.TOKENS_READ, "/api/v1/profiles/{north_page}/token"),
    (ApiScope.TOKENS_READ, "/api/v1/networks/facebook/token"),
])
def test_a_key_without_the_scope_is_403(app, session, api, agency, scope, path):
    others = [s for s in ApiScope if s != scope]
    secret, _ = make_key(app, session, agency.org, scopes=others)
    url = path.format(north_page=agency.profiles["north_page"].id)
    body = problem(api.get(url, secret=secret), 403, "forbidden")
    assert str(scope) in body["detail"]
    only, _ = make_key(app, session, agency.org, scopes=[scope], name="Only")
    assert api.get(url, secret=only).status_code == 200


def test_reporting_needs_tokens_read(app, session, api, agency):
    secret, _ = make_key(app, session, agency.org, scopes=[ApiScope.PROFILES_READ])
    path = f"/api/v1/profiles/{agency.profiles['north_page'].id}/token/report"
    problem(api.post(path, secret=secret, json={}), 403, "forbidden")


def test_another_agencys_profiles_and_brands_are_404(app, session, api, agency, other):
    secret, _ = make_key(app, session, agency.org)
    api.secret = secret
    theirs = other.profiles["theirs"].id
    for path in (f"/api/v1/profiles/{theirs}", f"/api/v1/profiles/{theirs}/token",
                 f"/api/v1/profiles?brand={other.brands['theirs'].id}",
                 f"/api/v1/networks/facebook/token?brand={other.brands['theirs'].id}"):
        problem(api.get(path), 404, "not-found")
    problem(api.post(f"/api/v1/profiles/{theirs}/token/report", json={}), 404, "not-found")
    listed = api.get("/api/v1/profiles").get_json()["data"]
    assert theirs not in {row["id"] for row in listed} and len(listed) == 2
    # The fallback never reaches across agencies either: only our one Facebook Page.
    for _ in range(3):
        assert api.get("/api/v1/networks/facebook/token").get_json()["profile"]["id"] == agency.profiles["north_page"].id


def test_a_brand_restricted_key_reaches_its_brand_only(app, session, api, agency):
    secret, _ = make_key(app, session, agency.org, brand=agency.brands["north"])
    api.secret = secret
    north, south = agency.profiles["north_page"].id, agency.profiles["south_x"].id
    assert [row["id"] for row in api.get("/api/v1/profiles").get_json()["data"]] == [north]
    assert api.get(f"/api/v1/profiles/{north}/token").status_code == 200
    for path in (f"/api/v1/profiles/{south}", f"/api/v1/profiles/{south}/token",
                 f"/api/v1/profiles?brand={agency.brands['south'].id}"):
        problem(api.get(path), 404, "not-found")
    problem(api.post(f"/api/v1/profiles/{south}/token/report", json={}), 404, "not-found")
    problem(api.post(f"/api/v1/profiles/{south}/renewal-links", json={"recipient": "client", "email": "a@b.test"}),
            404, "not-found")
    # The fallback knows no X profile in the key's brand: none to hand out.
    problem(api.get("/api/v1/networks/x/token"), 409, "no-live-token")


def test_past_the_rate_limit_a_key_gets_429_with_retry_after(app, session, api, agency, monkeypatch):
    app.config["API_REQUESTS_PER_MINUTE"] = 3
    # Half-way through a window, held there: a minute ending between two
    # requests would start a fresh count.
    now = (time.time() // limits.WINDOW_SECONDS + 0.5) * limits.WINDOW_SECONDS
    monkeypatch.setattr(limits, "time", SimpleNamespace(time=lambda: now))
    secret, _ = make_key(app, session, agency.org)
    other_secret, _ = make_key(app, session, agency.org, name="Another tool")
    for _ in range(3):
        assert api.get("/api/v1/profiles", secret=secret).status_code == 200
    response = api.get("/api/v1/profiles", secret=secret)
    problem(response, 429, "rate-limited")
    assert response.headers["Retry-After"] == "30"
    # Per key: another key of the same agency is not held back.
    assert api.get("/api/v1/profiles", secret=other_secret).status_code == 200


def test_last_use_is_written_once_a_minute_and_logged_once_a_day(app, session, api, agency, monkeypatch):
    # The API's clock at noon: two minutes before is the same day whenever the test runs.
    noon = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    monkeypatch.setattr("portal.api.views.utcnow", lambda: noon)
    secret, key = make_key(app, session, agency.org)
    for _ in range(3):
        assert api.get("/api/v1/profiles", secret=secret).status_code == 200
    session.rollback()
    session.expire_all()
    first = session.get(ApiKey, key.id)
    assert first.last_used_at is not None and first.last_used_address == "127.0.0.1"
    used = session.exec(select(AuditEvent).where(AuditEvent.action == "api_key.used")).all()
    assert len(used) == 1 and used[0].organization_id == agency.org.id and used[0].user_id is None
    assert used[0].data["prefix"] == key.prefix and used[0].data["address"] == "127.0.0.1"
    # A minute later the time is written again; the activity log hears of it once a day.
    assert first.last_used_at == noon
    first.last_used_at = noon - timedelta(minutes=2)
    session.add(first)
    session.commit()
    assert api.get("/api/v1/profiles", secret=secret).status_code == 200
    session.rollback()
    session.expire_all()
    assert session.get(ApiKey, key.id).last_used_at == noon
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "api_key.used")).all()) == 1


def test_a_refused_key_records_no_use(app, session, api, agency):
    secret, key = make_key(app, session, agency.org, scopes=[ApiScope.TOKENS_READ])
    assert api.get("/api/v1/profiles/999999/token", secret="ka_live_wrong").status_code == 401
    session.rollback()
    session.expire_all()
    assert session.get(ApiKey, key.id).last_used_at is None


def test_only_a_hash_of_the_secret_is_stored(app, session, agency):
    secret, key = make_key(app, session, agency.org)
    assert secret.startswith("ka_live_") and len(secret) > 40
    row = session.get(ApiKey, key.id)
    assert secret not in repr(row) and row.secret_hash != secret and row.prefix == secret[:12]
