"""LinkedIn's error rules (docs/networks.md), one row per signature, and organization roles,
without a server."""
import pytest

from portal.models import CanRenew, InvalidReason
from portal.networks.linkedin import classify_linkedin, organization_role
from portal.networks.outcomes import Kind, RenewNeeded, Stage


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
    (401, {"serviceErrorCode": 65602, "code": "EXPIRED_ACCESS_TOKEN",
           "message": "The token used in the request has expired", "status": 401},
     Stage.API, Kind.RENEW, InvalidReason.EXPIRED),
    (401, {"message": "The token used in the request has expired", "status": 401}, Stage.API, Kind.RENEW,
     InvalidReason.EXPIRED),
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
    ("ADMINISTRATOR", CanRenew.YES), ("DIRECT_SPONSORED_CONTENT_POSTER", CanRenew.NO), ("", CanRenew.UNKNOWN),
])
def test_linkedin_roles(role, can_renew):
    assert organization_role(role)[1] == can_renew
