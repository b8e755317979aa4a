"""TikTok's error rules (docs/networks.md), one row per signature, and its `client_key`,
without a server."""
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.networks.outcomes import Kind, Stage
from portal.networks.tiktok import classify_tiktok, client_key_in_url


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



def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_tiktok_renames_client_id():
    url = client_key_in_url("https://www.tiktok.com/v2/auth/authorize/?response_type=code&client_id=k&state=s")
    assert query(url) == {"response_type": "code", "client_key": "k", "state": "s"}
