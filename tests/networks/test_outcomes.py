"""The error rules of docs/networks.md, one row per signature, without a server."""
import pytest

from portal.models import InvalidReason
from portal.networks.outcomes import (
    AccessTokenRejected,
    Kind,
    PermissionMissing,
    RenewNeeded,
    Stage,
    Transient,
    UnexpectedResponse,
    classify_google,
    classify_linkedin,
    classify_meta,
    classify_pinterest,
    classify_tiktok,
    classify_x,
    scrub,
)


def meta(code, subcode=None, message="", **extra):
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "A1"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": {**error, **extra}}


META = [
    # renew needed: code 190/102 with each subcode
    (400, meta(190, 458, "Error validating access token: The user has not authorized application 1."),
     Kind.RENEW, InvalidReason.APP_REMOVED),
    (400, meta(190, 459, "The user is enrolled in a blocking, logged-in checkpoint"), Kind.RENEW, InvalidReason.CHECKPOINT),
    (400, meta(190, 460, "The session has been invalidated because the user changed their password"),
     Kind.RENEW, InvalidReason.PASSWORD_CHANGED),
    (400, meta(190, 463, "Error validating access token: Session has expired on Monday"), Kind.RENEW, InvalidReason.EXPIRED),
    (400, meta(190, 464, "Sessions for the user are not allowed because the user is not a confirmed user."),
     Kind.RENEW, InvalidReason.CHECKPOINT),
    (400, meta(190, 467, "Error validating access token: The user has logged out."), Kind.RENEW, InvalidReason.UNKNOWN),
    (400, meta(190, 492, "Invalid session"), Kind.RENEW, InvalidReason.ROLE_CHANGED),
    (400, meta(102, 463, "Session has expired"), Kind.RENEW, InvalidReason.EXPIRED),
    (400, meta(102, None, "Session key invalid or no longer valid"), Kind.RENEW, InvalidReason.UNKNOWN),
    (400, meta(190, None, "Invalid OAuth access token - Cannot parse access token"), Kind.RENEW, InvalidReason.UNKNOWN),
    (400, meta(190, None, "Error validating access token: Session has expired on Sunday"), Kind.RENEW, InvalidReason.EXPIRED),
    (400, meta(190, None, "Error validating access token: The user has not authorized application 1."),
     Kind.RENEW, InvalidReason.APP_REMOVED),
    # transient: rate limits and temporary errors, whatever the HTTP status
    (500, meta(1, None, "An unknown error occurred"), Kind.TRANSIENT, None),
    (503, meta(2, None, "Service temporarily unavailable"), Kind.TRANSIENT, None),
    (403, meta(4, None, "Application request limit reached"), Kind.TRANSIENT, None),
    (403, meta(17, None, "User request limit reached"), Kind.TRANSIENT, None),
    (403, meta(32, None, "Page request limit reached"), Kind.TRANSIENT, None),
    (400, meta(613, None, "Calls to this api have exceeded the rate limit."), Kind.TRANSIENT, None),
    (400, meta(9000, None, "Temporary", is_transient=True), Kind.TRANSIENT, None),
    (500, {"error": "boom"}, Kind.TRANSIENT, None),  # not Meta's shape: an outage all the same
    (502, None, Kind.TRANSIENT, None),
    (429, None, Kind.TRANSIENT, None),
    # permission missing: code 10 and 200-299
    (403, meta(10, None, "Application does not have permission for this action"), Kind.PERMISSION, None),
    (403, meta(200, None, "Requires pages_manage_posts permission"), Kind.PERMISSION, None),
    (403, meta(299, None, "Permissions error"), Kind.PERMISSION, None),
    # debug_token: HTTP 200 with is_valid false and the reason inside data
    (200, {"data": {"is_valid": False, "error": {"code": 190, "subcode": 460, "message": "password changed"}}},
     Kind.RENEW, InvalidReason.PASSWORD_CHANGED),
    (200, {"data": {"is_valid": False}}, Kind.RENEW, InvalidReason.UNKNOWN),
    (200, {"data": {"is_valid": True, "expires_at": 0}}, Kind.OK, None),
    (200, {"access_token": "EAAB", "token_type": "bearer", "expires_in": 5183944}, Kind.OK, None),
    (400, meta(100, None, "Invalid parameter"), Kind.ERROR, None),
    (400, meta(1, None, "Error validating client secret."), Kind.ERROR, None),  # configuration, not an outage
    (400, meta(101, None, "Error validating application. Invalid application ID."), Kind.ERROR, None),
]


@pytest.mark.parametrize("status,body,kind,reason", META)
def test_meta(status, body, kind, reason):
    outcome = classify_meta(status, body)
    assert (outcome.kind, outcome.reason) == (kind, reason)


X = [
    (400, {"error": "invalid_request", "error_description": "Value passed for the token was invalid."},
     Stage.TOKEN, Kind.RENEW),
    (400, {"error": "invalid_grant", "error_description": "Invalid refresh token"}, Stage.TOKEN, Kind.RENEW),
    (400, {"error": "invalid_request", "error_description": "Missing required parameter [code_verifier]."},
     Stage.TOKEN, Kind.ERROR),
    (401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
     Stage.API, Kind.REFRESH),
    (401, {"title": "Unauthorized", "status": 401, "detail": "Unauthorized"}, Stage.RETRY, Kind.RENEW),
    (429, {"title": "Too Many Requests", "status": 429}, Stage.API, Kind.TRANSIENT),
    (429, {"title": "Too Many Requests", "status": 429}, Stage.TOKEN, Kind.TRANSIENT),
    (500, None, Stage.TOKEN, Kind.TRANSIENT),
    (503, {"title": "Service Unavailable"}, Stage.API, Kind.TRANSIENT),
    (403, {"title": "Forbidden", "detail": "scope missing"}, Stage.API, Kind.PERMISSION),
    (200, {"data": {"id": "1", "username": "a"}}, Stage.API, Kind.OK),
]


@pytest.mark.parametrize("status,body,stage,kind", X)
def test_x(status, body, stage, kind):
    assert classify_x(status, body, stage).kind == kind


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
     Kind.ERROR, None),
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
    (401, {"error": "invalid_client", "error_description": "The OAuth client was not found."}, Stage.TOKEN, Kind.ERROR),
    (200, {"expires_in": "3599", "scope": "x"}, Stage.API, Kind.OK),
]


@pytest.mark.parametrize("status,body,stage,kind", GOOGLE)
def test_google(status, body, stage, kind):
    assert classify_google(status, body, stage).kind == kind


def test_google_expired_or_revoked_reads_as_expired():
    outcome = classify_google(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
                              Stage.TOKEN)
    assert outcome.reason == InvalidReason.EXPIRED


def tiktok_api(code, message="", status=401):
    return status, {"data": {}, "error": {"code": code, "message": message, "log_id": "2024"}}


TIKTOK = [
    (400, {"error": "invalid_grant", "error_description": "Refresh token is invalid or expired.", "log_id": "1"},
     Stage.TOKEN, Kind.RENEW),
    (200, {"error": "invalid_grant", "error_description": "Authorization code is expired.", "log_id": "1"},
     Stage.TOKEN, Kind.RENEW),
    (*tiktok_api("scope_not_authorized", "The user did not authorize the scope required"), Stage.API, Kind.PERMISSION),
    (*tiktok_api("access_token_invalid", "The access token is invalid or not found"), Stage.API, Kind.REFRESH),
    (*tiktok_api("access_token_invalid"), Stage.RETRY, Kind.RENEW),
    (*tiktok_api("rate_limit_exceeded", status=429), Stage.API, Kind.TRANSIENT),
    (*tiktok_api("internal_error", status=500), Stage.API, Kind.TRANSIENT),
    (500, None, Stage.TOKEN, Kind.TRANSIENT),
    (400, {"error": "invalid_client", "error_description": "Client key or secret is incorrect."}, Stage.TOKEN,
     Kind.ERROR),
    (*tiktok_api("ok", status=200), Stage.API, Kind.OK),
]


@pytest.mark.parametrize("status,body,stage,kind", TIKTOK)
def test_tiktok(status, body, stage, kind):
    assert classify_tiktok(status, body, stage).kind == kind


PINTEREST = [
    (400, {"code": 1, "message": "Invalid refresh token"}, Stage.TOKEN, Kind.RENEW),
    (401, {"error": "invalid_grant", "error_description": "Refresh token expired"}, Stage.TOKEN, Kind.RENEW),
    (401, {"code": 2, "message": "Authentication failed."}, Stage.API, Kind.REFRESH),
    (401, {"code": 2, "message": "Authentication failed."}, Stage.RETRY, Kind.RENEW),
    (429, {"code": 8, "message": "Rate limit exceeded"}, Stage.API, Kind.TRANSIENT),
    (429, None, Stage.TOKEN, Kind.TRANSIENT),
    (500, {"code": 0, "message": "Server error"}, Stage.TOKEN, Kind.TRANSIENT),
    (403, {"code": 3, "message": "Not permitted"}, Stage.API, Kind.PERMISSION),
    (200, {"username": "a"}, Stage.API, Kind.OK),
]


@pytest.mark.parametrize("status,body,stage,kind", PINTEREST)
def test_pinterest(status, body, stage, kind):
    assert classify_pinterest(status, body, stage).kind == kind


@pytest.mark.parametrize("kind,exception", [
    (Kind.RENEW, RenewNeeded), (Kind.TRANSIENT, Transient), (Kind.PERMISSION, PermissionMissing),
    (Kind.REFRESH, AccessTokenRejected), (Kind.ERROR, UnexpectedResponse),
])
def test_each_outcome_raises_its_exception(kind, exception):
    from portal.networks.outcomes import Outcome

    assert type(Outcome(kind, InvalidReason.EXPIRED if kind == Kind.RENEW else None, "d").error()) is exception


def test_a_refused_access_token_is_never_a_reason_to_flag_the_token():
    assert issubclass(AccessTokenRejected, Transient)
    assert not issubclass(UnexpectedResponse, RenewNeeded)


def test_retry_after_is_carried():
    error = classify_x(429, None).error(retry_after=30)
    assert isinstance(error, Transient) and error.retry_after == 30


@pytest.mark.parametrize("text", [
    "GET https://graph.facebook.com/v21.0/oauth/access_token?grant_type=fb_exchange_token&client_id=1"
    "&client_secret=s3cr3tvalue&fb_exchange_token=EAABsecretTOKEN",
    'body {"access_token": "EAABsecretTOKEN", "refresh_token": "r-secretvalue"}',
    "Authorization: Bearer EAABsecretTOKEN",
    "debug_token?input_token=EAABsecretTOKEN&access_token=1|s3cr3tvalue",
])
def test_scrub_removes_tokens_and_secrets(text):
    cleaned = scrub(text)
    assert "EAABsecretTOKEN" not in cleaned
    assert "s3cr3tvalue" not in cleaned
    assert "r-secretvalue" not in cleaned
    assert "[redacted]" in cleaned


def test_scrub_removes_known_values_anywhere():
    assert scrub("token was xyz-123-abc here", secrets=["xyz-123-abc"]) == "token was [redacted] here"


def test_an_error_message_never_holds_a_token():
    error = RenewNeeded(InvalidReason.EXPIRED, "refused: access_token=EAABsecretTOKEN")
    assert "EAABsecretTOKEN" not in str(error)
