"""Google's error rules (YouTube, Google Business Profile; docs/networks.md), one row per
signature, without a server."""
import pytest

from portal.models import InvalidReason
from portal.networks.google import classify_google
from portal.networks.outcomes import Kind, Stage


GOOGLE = [
    (400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, Stage.TOKEN,
     Kind.RENEW),
    (400, {"error": "invalid_grant", "error_description": "Bad Request"}, Stage.TOKEN, Kind.RENEW),
    (401, {"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                     "status": "UNAUTHENTICATED"}}, Stage.API, Kind.REFRESH),
    (401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}, Stage.RETRY, Kind.RENEW),
    (400, {"error": "invalid_token", "error_description": "Invalid Value"}, Stage.API, Kind.REFRESH),
    (403, {"error": {"code": 403, "message": "Quota exceeded", "errors": [{"reason": "quotaExceeded"}]}},
     Stage.API, Kind.TRANSIENT),
    (429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}, Stage.API, Kind.TRANSIENT),
    (500, {"error": "internal_failure"}, Stage.TOKEN, Kind.TRANSIENT),
    (503, None, Stage.API, Kind.TRANSIENT),
    (403, {"error": {"code": 403, "message": "Insufficient Permission",
                     "errors": [{"reason": "insufficientPermissions"}]}}, Stage.API, Kind.PERMISSION),
    (401, {"error": "invalid_client", "error_description": "The OAuth client was not found."}, Stage.TOKEN,
     Kind.APP_SETTINGS),
    (401, {"error": "invalid_client", "error_description": "Unauthorized"}, Stage.TOKEN, Kind.APP_SETTINGS),
    (403, {"error": {"code": 403, "message": "My Business Account Management API has not been used in project 1 "
                     "before or it is disabled.", "status": "PERMISSION_DENIED",
                     "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED"}]}},
     Stage.API, Kind.APP_SETTINGS),
    (200, {"expires_in": "3599", "scope": "x"}, Stage.API, Kind.OK),
]


@pytest.mark.parametrize("status,body,stage,kind", GOOGLE)
def test_google(status, body, stage, kind):
    assert classify_google(status, body, stage).kind == kind


def test_google_expired_or_revoked_reads_as_expired():
    outcome = classify_google(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
                              Stage.TOKEN)
    assert outcome.reason == InvalidReason.EXPIRED
