"""GET /api/v1/profiles and /api/v1/profiles/{id}: filters, cursor pages,
what each profile says."""
from datetime import timedelta

import pytest

from portal.db import utcnow
from tests import factories
from tests.api.conftest import make_key


@pytest.fixture
def agency(session):
    return factories.agency(
        session,
        people={"owner": "owner", "admin": {"role": "member", "can_manage_profiles": True, "name": "Ada"},
                "viewer": "member"},
        brands=["north", "south"],
        profiles={
            "valid": {"network": "facebook", "name": "Café Valid", "handle": "@cafe", "brands": ["north"],
                      "credential": {"token_type": "page", "expires_in": None,
                                     "data_access_expires_at": utcnow() + timedelta(days=80)}},
            "expiring": {"network": "x", "name": "Expiring X", "brands": ["south"],
                         "credential": {"refresh_token": "r", "refresh_expires_at": utcnow() + timedelta(days=2)}},
            "expired": {"network": "instagram", "name": "Gone Insta",
                        "credential": {"expires_in": timedelta(days=-1)}},
            "invalid": {"network": "x", "name": "Dead X",
                        "credential": {"status": "invalid", "invalid_reason": "password_changed"}},
            "no_expiry": {"network": "linkedin_company", "name": "Forever", "credential": {"expires_in": None}},
            "none": {"network": "pinterest", "name": "Never connected"},
        },
        rights=[("admin", "valid", "admin"), ("viewer", "valid", "viewer")],
    )


@pytest.fixture
def keyed(app, session, api, agency):
    api.secret, _ = make_key(app, session, agency.org)
    return api


def ids(answer, agency):
    names = {profile.id: key for key, profile in agency.profiles.items()}
    return [names[row["id"]] for row in answer.get_json()["data"]]


@pytest.mark.parametrize(("status", "expected"), [
    ("valid", ["valid"]), ("expiring", ["expiring"]), ("expired", ["expired", "none"]),
    ("invalid", ["invalid"]), ("no_expiry", ["no_expiry"]),
])
def test_filter_by_status(keyed, agency, status, expected):
    answer = keyed.get(f"/api/v1/profiles?status={status}")
    assert ids(answer, agency) == expected
    assert {row["status"] for row in answer.get_json()["data"]} == {status}


def test_filters_by_network_brand_and_text(keyed, agency):
    assert ids(keyed.get("/api/v1/profiles?network=x"), agency) == ["expiring", "invalid"]
    assert ids(keyed.get(f"/api/v1/profiles?brand={agency.brands['south'].id}"), agency) == ["expiring"]
    assert ids(keyed.get("/api/v1/profiles?q=caf"), agency) == ["valid"]
    assert ids(keyed.get("/api/v1/profiles?q=@CAFE"), agency) == ["valid"]
    assert ids(keyed.get("/api/v1/profiles?q=x&network=x&status=invalid"), agency) == ["invalid"]


def test_cursor_pages_cover_every_profile_once(keyed, agency):
    seen, path = [], "/api/v1/profiles?limit=4"
    while path:
        body = keyed.get(path).get_json()
        assert len(body["data"]) <= 4
        seen += [row["id"] for row in body["data"]]
        path = body["next_cursor"] and f"/api/v1/profiles?limit=4&cursor={body['next_cursor']}"
    assert seen == sorted(profile.id for profile in agency.profiles.values())


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "status=dead", "network=myspace",
                                   "cursor=!!!", "cursor=cDEyYQ", "brand=0", "brand=abc", "unknown=1",
                                   "q=" + "a" * 201, "q=a%00b", "limit=1e3", "network=x&network=tiktok"])
def test_bad_parameters_are_a_400_problem(keyed, query):
    answer = keyed.get(f"/api/v1/profiles?{query}")
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    assert answer.get_json(force=True)["detail"]


def test_one_profile_says_everything(keyed, agency):
    profile = agency.profiles["valid"]
    body = keyed.get(f"/api/v1/profiles/{profile.id}").get_json()
    assert body["network"] == "facebook" and body["name"] == "Café Valid" and body["handle"] == "@cafe"
    assert body["external_id"] == profile.external_id
    assert body["brands"] == [{"id": agency.brands["north"].id, "name": "north"}]
    assert body["status"] == "valid" and body["invalid_reason"] is None
    assert body["expires_at"].startswith(agency.credentials["valid"].data_access_expires_at.date().isoformat())
    assert body["renews_silently"] is False  # a Page token alone: a person renews its data access
    # Owners, and a Member who may manage profiles with Admin on it; not a Viewer.
    people = {person["email"] for person in body["renewable_by"]["people"]}
    assert people == {"owner@example.test", "admin@example.test"}
    assert "Admin" in body["renewable_by"]["permission"]
    assert body["url"] == f"http://localhost/accounts/{profile.id}"


def test_a_dead_profile_says_why(keyed, agency):
    body = keyed.get(f"/api/v1/profiles/{agency.profiles['invalid'].id}").get_json()
    assert body["status"] == "invalid" and body["invalid_reason"] == "password_changed"
    assert keyed.get(f"/api/v1/profiles/{agency.profiles['expiring'].id}").get_json()["renews_silently"] is True
    none = keyed.get(f"/api/v1/profiles/{agency.profiles['none'].id}").get_json()
    assert none["status"] == "expired" and none["expires_at"] is None


def test_listing_a_page_costs_a_fixed_number_of_queries(app, keyed, agency, session):
    from sqlalchemy import event

    statements = []
    engine = app.extensions["keepalive.engine"]

    def count(*_args):
        statements.append(1)

    keyed.get("/api/v1/profiles?limit=1")  # the key's last use is written once a minute: not counted below
    event.listen(engine, "before_cursor_execute", count)
    try:
        keyed.get("/api/v1/profiles?limit=2")
        few = len(statements)
        statements.clear()
        keyed.get("/api/v1/profiles?limit=100")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == few
