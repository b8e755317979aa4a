"""TikTok: its error rules (docs/networks.md), one row per signature, its
`client_key`, and the adapter against TikTok's documented answers."""
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.networks.outcomes import Kind, Stage
from portal.networks.tiktok import USER_INFO, classify_tiktok, client_key_in_url


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
    (401, {"error": "invalid_client", "error_description": "Client authentication failed", "log_id": "1"},
     Stage.TOKEN, Kind.APP_SETTINGS),
    (*tiktok_api("scope_permission_missed", "some fields need additional scopes"), Stage.API, Kind.APP_SETTINGS),
    (*tiktok_api("ok", status=200), Stage.API, Kind.OK),
]


@pytest.mark.parametrize("status,body,stage,kind", TIKTOK)
def test_tiktok(status, body, stage, kind):
    assert classify_tiktok(status, body, stage).kind == kind



def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_tiktok_renames_client_id():
    url = client_key_in_url("https://www.tiktok.com/v2/auth/authorize/?response_type=code&client_id=k&state=s")
    assert query(url) == {"response_type": "code", "client_key": "k", "state": "s"}


# --- against TikTok's documented answers -------------------------------------

def test_the_consent_asks_for_the_scope_of_the_username(replay):
    url = replay.adapter("tiktok").authorize_url("s", None, "https://keepalive.example/renew/callback/tiktok")
    assert query(url)["scope"].split(",") == ["user.info.basic", "user.info.profile", "video.publish", "video.upload"]


def test_user_info_asks_for_what_the_granted_scopes_allow(replay):
    replay.serve("tiktok/token", "tiktok/user_info")
    grant = replay.adapter("tiktok").exchange_code("code", None, "https://keepalive.example/renew/callback/tiktok")
    (sent,) = replay.sent("GET", USER_INFO)
    assert sent.query["fields"] == "open_id,union_id,display_name,username"
    assert sent.headers["authorization"] == "Bearer act.example12345Example12345Example"
    profile = grant.profiles[0]
    assert (profile.external_id, profile.name, profile.handle) == (
        "afd97af1-b87b-48b9-ac98-410aghda5344", "Northwind Cafe", "@northwindcafe")


def test_without_the_profile_scope_the_username_is_not_asked_for(replay):
    replay.serve("tiktok/token_basic_scope", "tiktok/user_info")
    adapter = replay.adapter("tiktok")
    grant = adapter.exchange_code("code", None, "https://keepalive.example/renew/callback/tiktok")
    assert replay.sent("GET", USER_INFO)[0].query["fields"] == "open_id,union_id,display_name"
    assert adapter.validate(grant.profiles[0].tokens).ok
    assert replay.sent("GET", USER_INFO)[1].query["fields"] == "open_id,union_id,display_name"
