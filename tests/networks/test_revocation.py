"""Revoking a grant where the network offers it (a profile removed), against
the networks' documented answers; the others offer none here."""
import pytest

from portal.networks import NETWORKS, TokenSet
from portal.networks.outcomes import NetworkError

TOKENS = TokenSet("the-access-token", "the-refresh-token")
REVOKE = {"google_business": "https://oauth2.googleapis.com/revoke", "youtube": "https://oauth2.googleapis.com/revoke",
          "x": "https://api.x.com/2/oauth2/revoke", "tiktok": "https://open.tiktokapis.com/v2/oauth/revoke/"}


@pytest.mark.parametrize("network, fixture, sent_token", [
    ("google_business", "google/revoke", "the-refresh-token"),  # a refresh token ends the whole grant
    ("youtube", "google/revoke", "the-refresh-token"),
    ("x", "x/revoke", "the-refresh-token"),
    ("tiktok", "tiktok/revoke", "the-access-token"),  # TikTok revokes by the access token
])
def test_revocation_sends_the_token_the_network_documents(replay, network, fixture, sent_token):
    replay.serve(fixture)
    adapter = replay.adapter(network)
    assert adapter.offers_revocation
    adapter.revoke(TOKENS)
    (sent,) = replay.sent("POST", REVOKE[network])
    assert sent.form["token"] == sent_token
    if network == "x":
        assert sent.headers["authorization"].startswith("Basic ")  # the confidential client
    if network == "tiktok":
        assert (sent.form["client_key"], sent.form["client_secret"]) == ("client-id", "client-secret")


def test_a_refused_revocation_raises_the_networks_refusal(replay):
    replay.serve("google/revoke_invalid")
    with pytest.raises(NetworkError):
        replay.adapter("google_business").revoke(TOKENS)


@pytest.mark.parametrize("network", sorted(set(NETWORKS) - set(REVOKE)))
def test_the_others_offer_no_revocation_here(replay, network):
    adapter = replay.adapter(network)
    assert not adapter.offers_revocation
    with pytest.raises(NotImplementedError):
        adapter.revoke(TOKENS)
