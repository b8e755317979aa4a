"""Google: its error rules (YouTube, Google Business Profile; docs/networks.md), one row per
signature, and the adapter against Google's documented answers."""
import pytest

from portal.models import InvalidReason
from portal.networks import AppSettingsRefused, RenewNeeded, TokenSet
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


# --- against Google's documented answers ----------------------------------------

def test_every_business_profile_account_and_location_is_read(replay):
    replay.serve("google/token", "google/accounts_page1", "google/accounts_page2", "google/locations_101_page1",
                 "google/locations_101_page2", "google/locations_102")
    grant = replay.adapter("google_business").exchange_code("code", "verifier", "https://k.example/cb")
    assert [(p.external_id, p.name, p.native_role) for p in grant.profiles] == [
        ("6001", "Northwind Cafe · Harbour Street", "OWNER"),
        ("6002", "Northwind Cafe · Old Town", "OWNER"),
        ("6101", "Harbor Fitness · Pier 4", "SITE_MANAGER"),
    ]
    accounts = replay.sent("GET", "https://mybusinessaccountmanagement.googleapis.com/v1/accounts")
    assert [r.query.get("pageToken") for r in accounts] == [None, "CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA"]
    assert {r.query["pageSize"] for r in accounts} == {"20"}
    locations = replay.sent("GET", "https://mybusinessbusinessinformation.googleapis.com/v1/accounts/101/locations")
    assert [(r.query["pageSize"], r.query.get("pageToken"), r.query["readMask"]) for r in locations] == [
        ("100", None, "name,title"), ("100", "CAEQAhoGCgQ2MDAx", "name,title")]


def test_youtube_channels_and_a_refresh_that_keeps_the_refresh_token(replay):
    replay.serve("google/token", "youtube/channels")
    adapter = replay.adapter("youtube")
    grant = adapter.exchange_code("code", "verifier", "https://keepalive.example/renew/callback/youtube")
    assert [(p.external_id, p.name, p.handle) for p in grant.profiles] == [
        ("UC_x5XG1OV2P6uZZ5FSM9Ttw", "Northwind Kitchen", "@northwindkitchen")]
    tokens = grant.profiles[0].tokens
    replay.reset()
    replay.serve("google/refresh")
    renewed = adapter.refresh(tokens)
    assert renewed.refresh_token == tokens.refresh_token == "1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI"
    replay.reset()
    replay.serve("google/invalid_grant")
    with pytest.raises(RenewNeeded) as caught:
        adapter.refresh(tokens)
    assert caught.value.reason == InvalidReason.EXPIRED
    replay.reset()
    replay.serve("google/token_invalid_client")
    with pytest.raises(AppSettingsRefused):
        adapter.refresh(TokenSet("a", "r"))
