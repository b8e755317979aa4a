"""X: its error rules (docs/networks.md), one row per signature, and the adapter against X's
documented answers."""
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.models import InvalidReason
from portal.networks import RenewNeeded, TokenSet
from portal.networks.outcomes import Kind, Stage, Transient
from portal.networks.x import classify_x


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
    # the app's access, project or plan: never the person's token
    (403, {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"}, Stage.API,
     Kind.APP_SETTINGS),
    (403, {"client_id": "27316216", "title": "Client Forbidden", "reason": "client-not-enrolled",
           "type": "https://api.twitter.com/2/problems/client-forbidden",
           "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from "
                     "a Twitter developer App that is attached to a Project."}, Stage.API, Kind.APP_SETTINGS),
    (403, {"errors": [{"message": "You currently have access to a subset of X API V2 endpoints", "code": 453}]},
     Stage.API, Kind.APP_SETTINGS),
    (401, {"error": "unauthorized_client", "error_description": "Missing valid authorization header"}, Stage.TOKEN,
     Kind.APP_SETTINGS),
    (200, {"data": {"id": "1", "username": "a"}}, Stage.API, Kind.OK),
]


@pytest.mark.parametrize("status,body,stage,kind", X)
def test_x(status, body, stage, kind):
    assert classify_x(status, body, stage).kind == kind


def test_retry_after_is_carried():
    error = classify_x(429, None).error(retry_after=30)
    assert isinstance(error, Transient) and error.retry_after == 30


# --- against X's documented answers --------------------------------------------

TOKEN = "https://api.x.com/2/oauth2/token"


def test_a_consent_with_pkce_and_a_rotating_refresh(replay):
    adapter = replay.adapter("x")
    url = adapter.authorize_url("state", "v" * 64, "https://keepalive.example/renew/callback/x")
    asked = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert asked["scope"] == "tweet.read tweet.write users.read offline.access"
    assert asked["code_challenge_method"] == "S256"
    replay.serve("x/token", "x/users_me")
    grant = adapter.exchange_code("code", "v" * 64, "https://keepalive.example/renew/callback/x")
    assert [(p.external_id, p.handle) for p in grant.profiles] == [("2244994945", "@XDevelopers")]
    (sent,) = replay.sent("POST", TOKEN)
    assert sent.headers["authorization"].startswith("Basic ")  # a confidential client
    assert (sent.form["code_verifier"], sent.form["client_id"]) == ("v" * 64, "client-id")
    tokens = grant.profiles[0].tokens
    replay.reset()
    replay.serve("x/refresh_token_invalid")
    with pytest.raises(RenewNeeded) as caught:
        adapter.refresh(tokens)
    assert caught.value.reason == InvalidReason.UNKNOWN
    assert replay.sent("POST", TOKEN)[0].form["refresh_token"] == tokens.refresh_token


def test_x_validates_with_users_me(replay):
    replay.serve("x/users_me")
    assert replay.adapter("x").validate(TokenSet("access")).ok
