"""Pinterest: its error rules (docs/networks.md), one row per signature, and the adapter against
Pinterest's documented answers."""
from datetime import timedelta

import pytest

from portal.db import utcnow
from portal.networks.outcomes import Kind, Stage
from portal.networks.pinterest import classify_pinterest


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


# --- against Pinterest's documented answers ---------------------------------------

def test_a_consent_with_continuous_refresh_and_a_rotating_refresh(replay):
    replay.serve("pinterest/token", "pinterest/user_account")
    adapter = replay.adapter("pinterest")
    grant = adapter.exchange_code("code", None, "https://keepalive.example/renew/callback/pinterest")
    assert [(p.external_id, p.name, p.handle) for p in grant.profiles] == [
        ("549755885175", "Northwind Café Recipes", "@northwindrecipes")]
    (exchange,) = replay.sent("POST", "https://api.pinterest.com/v5/oauth/token")
    assert exchange.form["continuous_refresh"] == "true" and exchange.headers["authorization"].startswith("Basic ")
    tokens = grant.profiles[0].tokens
    assert tokens.refresh_expires_at > utcnow() + timedelta(days=59)
    replay.reset()
    replay.serve("pinterest/refresh")
    renewed = adapter.refresh(tokens)
    assert renewed.refresh_token == "pinr_AMA2VBQWAAAAAAAAAAAAAAEE"  # the spent one is replaced
