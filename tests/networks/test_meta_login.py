"""Instagram (Instagram Login) and Threads against Meta's documented answers:
the code, the 60-day token, its refresh once a day old, and a dead token."""
from datetime import timedelta

import pytest

from portal.db import utcnow
from portal.models import CanRenew, InvalidReason
from portal.networks import RenewNeeded, TokenSet

CALLBACK = "https://keepalive.example/renew/callback/{}"


@pytest.mark.parametrize("code_answer", ["instagram/code_exchange", "instagram/code_exchange_business_login"])
def test_instagram_consent(replay, code_answer):
    replay.serve(code_answer, "instagram/long_lived", "instagram/me")
    grant = replay.adapter("instagram").exchange_code("code", None, CALLBACK.format("instagram"))
    (profile,) = grant.profiles
    assert (profile.external_id, profile.name, profile.handle, profile.can_renew) == (
        "17841405793187218", "Northwind Roastery", "@northwind.roastery", CanRenew.YES)
    assert profile.tokens.access_token == "IGQVJlonglived" and profile.tokens.refresh_token is None
    assert profile.tokens.expires_at > utcnow() + timedelta(days=59)
    exchange = replay.sent("GET", "https://graph.instagram.com/access_token")[0]
    assert exchange.query == {"grant_type": "ig_exchange_token", "client_secret": "client-secret",
                              "access_token": "IGQVJshortlived"}


def test_threads_consent_on_its_threads_com_hosts(replay):
    replay.serve("threads/code_exchange", "threads/long_lived", "threads/me")
    grant = replay.adapter("threads").exchange_code("code", None, CALLBACK.format("threads"))
    assert [(p.external_id, p.handle) for p in grant.profiles] == [("1234567", "@northwindcafe")]
    assert replay.sent("POST", "https://graph.threads.com/oauth/access_token")[0].form["redirect_uri"] == (
        CALLBACK.format("threads"))


@pytest.mark.parametrize("network,prefix", [("instagram", "ig"), ("threads", "th")])
def test_a_day_old_token_is_refreshed_for_60_days(replay, network, prefix):
    replay.serve(f"{network}/refresh")
    host = "graph.instagram.com" if network == "instagram" else "graph.threads.com"
    old = TokenSet("old-token", expires_at=utcnow() + timedelta(days=5), issued_at=utcnow() - timedelta(days=55))
    renewed = replay.adapter(network).refresh(old)
    assert renewed.access_token.endswith("refreshed") and renewed.expires_at > utcnow() + timedelta(days=59)
    (sent,) = replay.sent("GET", f"https://{host}/refresh_access_token")
    assert sent.query == {"grant_type": f"{prefix}_refresh_token", "access_token": "old-token"}


def test_an_expired_instagram_token_needs_renewal(replay):
    replay.serve("instagram/expired_463")
    with pytest.raises(RenewNeeded) as caught:
        replay.adapter("instagram").validate(TokenSet("IGQVJlonglived"))
    assert caught.value.reason == InvalidReason.EXPIRED
