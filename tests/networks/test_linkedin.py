"""LinkedIn: its error rules (docs/networks.md), one row per signature, organization roles, and
the adapter against LinkedIn's documented answers."""
from datetime import timedelta

import pytest

from portal.models import CanRenew, InvalidReason
from portal.networks.linkedin import classify_linkedin, organization_role
from portal.db import utcnow
from portal.networks import AccessTokenRejected, TokenSet
from portal.networks.outcomes import Kind, RenewNeeded, Stage
from portal.renewal.health import check_credential
from tests import factories as f


def test_linkedin_65601_asks_for_a_recheck():
    outcome = classify_linkedin(
        401, {"serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN",
              "message": "The token used in the request has been revoked by the user", "status": 401})
    assert outcome.kind == Kind.RENEW
    assert outcome.reason == InvalidReason.PERMISSION_REVOKED
    assert outcome.recheck is True
    error = outcome.error()
    assert isinstance(error, RenewNeeded) and error.recheck is True


LINKEDIN = [
    (401, {"serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN", "message": "Invalid access token", "status": 401},
     Stage.API, Kind.RENEW, InvalidReason.UNKNOWN),
    # an expired access token: refresh first (where a refresh token lives), dead after a refresh
    (401, {"serviceErrorCode": 65602, "code": "EXPIRED_ACCESS_TOKEN",
           "message": "The token used in the request has expired", "status": 401},
     Stage.API, Kind.REFRESH, None),
    (401, {"message": "The token used in the request has expired", "status": 401}, Stage.API, Kind.REFRESH, None),
    (401, {"serviceErrorCode": 65602, "message": "The token used in the request has expired", "status": 401},
     Stage.RETRY, Kind.RENEW, InvalidReason.EXPIRED),
    (400, {"error": "invalid_request", "error_description": "The provided refresh token is invalid or has expired"},
     Stage.TOKEN, Kind.RENEW, InvalidReason.EXPIRED),
    (400, {"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"},
     Stage.TOKEN, Kind.RENEW, InvalidReason.UNKNOWN),
    (400, {"error": "invalid_redirect_uri", "error_description": "Unable to retrieve access token"},
     Stage.TOKEN, Kind.ERROR, None),
    (401, {"error": "invalid_client", "error_description": "Client authentication failed"}, Stage.TOKEN,
     Kind.APP_SETTINGS, None),
    (426, {"status": 426, "code": "VERSION_MISSING", "message": "Version Header is Deprecated"}, Stage.API,
     Kind.APP_SETTINGS, None),
    (401, {"message": "Empty oauth2 access token", "status": 401}, Stage.API, Kind.RENEW, InvalidReason.UNKNOWN),
    (403, {"serviceErrorCode": 100, "code": "ACCESS_DENIED", "message": "Not enough permissions", "status": 403},
     Stage.API, Kind.PERMISSION, None),
    (429, {"message": "Resource level throttle limit", "status": 429}, Stage.API, Kind.TRANSIENT, None),
    (500, {"message": "Internal Server Error", "status": 500}, Stage.API, Kind.TRANSIENT, None),
    (504, None, Stage.TOKEN, Kind.TRANSIENT, None),
    (200, {"active": True, "status": "active"}, Stage.API, Kind.OK, None),
]


@pytest.mark.parametrize("status,body,stage,kind,reason", LINKEDIN)
def test_linkedin(status, body, stage, kind, reason):
    outcome = classify_linkedin(status, body, stage)
    assert (outcome.kind, outcome.reason) == (kind, reason)
    assert outcome.recheck is False


@pytest.mark.parametrize("role,can_renew", [
    ("ADMINISTRATOR", CanRenew.YES), ("DIRECT_SPONSORED_CONTENT_POSTER", CanRenew.NO),
    ("CONTENT_ADMINISTRATOR", CanRenew.NO),  # may publish, may not renew
    ("ANALYST", CanRenew.NO), ("", CanRenew.UNKNOWN),
])
def test_linkedin_roles(role, can_renew):
    assert organization_role(role)[1] == can_renew


# --- against LinkedIn's documented answers -----------------------------------

INTROSPECT = "https://www.linkedin.com/oauth/v2/introspectToken"
LIVE_REFRESH = dict(refresh_token="AQWrefresh", refresh_expires_at=utcnow() + timedelta(days=200))


def test_an_expired_access_token_beside_a_live_refresh_token_asks_for_a_refresh(replay):
    replay.serve("linkedin/introspect_expired")
    adapter = replay.adapter("linkedin_personal")
    with pytest.raises(AccessTokenRejected):
        adapter.validate(TokenSet("AQVexpired", **LIVE_REFRESH))
    with pytest.raises(RenewNeeded) as caught:  # nothing renews it
        adapter.validate(TokenSet("AQVexpired"))
    assert caught.value.reason == InvalidReason.EXPIRED
    with pytest.raises(RenewNeeded) as caught:  # its refresh token ended too
        adapter.validate(TokenSet("AQVexpired", "AQWrefresh", refresh_expires_at=utcnow() - timedelta(days=1)))
    assert caught.value.reason == InvalidReason.EXPIRED
    with pytest.raises(RenewNeeded) as caught:  # expired again right after a refresh
        adapter.validate(TokenSet("AQVexpired", **LIVE_REFRESH), after_refresh=True)
    assert caught.value.reason == InvalidReason.EXPIRED
    sent = replay.sent("POST", INTROSPECT)[0]
    assert (sent.form["client_id"], sent.form["client_secret"], sent.form["token"]) == (
        "client-id", "client-secret", "AQVexpired")


def test_a_health_check_refreshes_an_expired_access_token(session, app_context, replay):
    replay.serve("linkedin/introspect_expired", "linkedin/introspect_active", "linkedin/refresh")
    profile = f.profile(session, f.organization(session), network="linkedin_personal")
    credential = f.credential(session, profile, expires_at=utcnow() - timedelta(hours=1), **LIVE_REFRESH)
    # access again, but the connection ends when the refresh token does, which the refresh did not move
    assert check_credential(profile.id, replay.adapter("linkedin_personal")) == "refreshed"
    session.rollback()
    session.refresh(credential)
    assert not credential.is_invalid
    assert credential.expires_at > utcnow() + timedelta(days=59)
    # what the answer says is left of the refresh token (refresh_token_expires_in, seconds)
    assert abs(credential.refresh_expires_at - (utcnow() + timedelta(seconds=525600))) < timedelta(minutes=1)
    assert len(replay.sent("POST", INTROSPECT)) == 2


def test_without_a_refresh_token_an_expired_access_token_is_dead(session, app_context, replay):
    replay.serve("linkedin/introspect_expired")
    profile = f.profile(session, f.organization(session), network="linkedin_personal")
    credential = f.credential(session, profile, expires_at=utcnow() - timedelta(hours=1))
    assert check_credential(profile.id, replay.adapter("linkedin_personal")) == "invalid"
    session.rollback()
    session.refresh(credential)
    assert credential.invalid_reason == InvalidReason.EXPIRED


def test_every_organization_role_is_read_from_the_versioned_api(replay):
    replay.serve("linkedin/token", "linkedin/organization_acls_page1", "linkedin/organization_acls_page2",
                 "linkedin/organization_2414183", "linkedin/organization_2414184", "linkedin/organization_2414185")
    grant = replay.adapter("linkedin_company").exchange_code("code", None, "https://k.example/cb")
    assert [(p.external_id, p.name, p.handle, p.native_role, p.can_renew) for p in grant.profiles] == [
        ("2414183", "Northwind Hospitality Group", "northwind-hospitality", "ADMINISTRATOR", CanRenew.YES),
        ("2414184", "Harbor Fitness", "harbor-fitness", "CONTENT_ADMINISTRATOR", CanRenew.NO),
        ("2414185", "Bluebell Books", "bluebell-books", "ANALYST", CanRenew.NO),
    ]
    assert grant.person_external_id == "iFVmbjTYTO"
    assert grant.profiles[0].tokens.refresh_token is None  # an app without programmatic refresh tokens
    acls = replay.sent("GET", "https://api.linkedin.com/rest/organizationAcls")
    assert [(r.query["q"], r.query["start"], r.query["count"]) for r in acls] == [
        ("roleAssignee", "0", "100"), ("roleAssignee", "2", "100")]
    for request in acls + replay.sent("GET", "https://api.linkedin.com/rest/organizations/2414183"):
        assert request.headers["linkedin-version"] == "202607"
        assert request.headers["x-restli-protocol-version"] == "2.0.0"
        assert request.headers["authorization"] == "Bearer AQUvlL_DYEzvT2wz1QJiEPeLioeA"
