"""Revoking a grant where the network offers it (a profile removed), against
the networks' documented answers; the others offer none here."""
import pytest

from portal.models import PAGE_TOKEN
from portal.networks import NETWORKS, TokenSet
from portal.networks.meta_graph import appsecret_proof
from portal.networks.outcomes import AppSettingsRefused, NetworkError
from tests.networks.replay import CLIENT_ID, CLIENT_SECRET

TOKENS = TokenSet("the-access-token", "the-refresh-token")
REVOKE = {"google_business": "https://oauth2.googleapis.com/revoke", "youtube": "https://oauth2.googleapis.com/revoke",
          "x": "https://api.x.com/2/oauth2/revoke", "tiktok": "https://open.tiktokapis.com/v2/oauth/revoke/"}
# Meta takes back a person's whole authorization of the app (DELETE /{user-id}/permissions).
META = {"facebook", "instagram_business"}
PERSON = "10853xxxxxxxxxxxx"  # debug_token's user_id in the fixtures
PERMISSIONS = f"https://graph.facebook.com/v25.0/{PERSON}/permissions"
APP_TOKEN = f"{CLIENT_ID}|{CLIENT_SECRET}"


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


@pytest.mark.parametrize("network", sorted(META))
def test_meta_deauthorizes_the_app_for_the_person_a_page_token_names(replay, network):
    replay.serve("facebook/debug_token_page", "facebook/delete_permissions")
    adapter = replay.adapter(network)
    assert adapter.offers_revocation
    adapter.revoke(TokenSet("the-page-token", token_type=PAGE_TOKEN))
    (asked,) = replay.sent("GET", "https://graph.facebook.com/debug_token")
    assert asked.query["input_token"] == "the-page-token"
    (sent,) = replay.sent("DELETE", PERMISSIONS)
    assert sent.query["access_token"] == APP_TOKEN  # the app access token: a Page token knows no user
    assert sent.query["appsecret_proof"] == appsecret_proof(CLIENT_SECRET, APP_TOKEN)


def test_meta_revokes_for_the_person_kept_without_asking_who(replay):
    replay.serve("facebook/delete_permissions")
    replay.adapter("facebook").revoke(TokenSet("the-page-token", token_type=PAGE_TOKEN, person_external_id=PERSON))
    assert replay.sent("GET", "https://graph.facebook.com/debug_token") == []
    assert len(replay.sent("DELETE", PERMISSIONS)) == 1


def test_a_wrong_app_secret_at_metas_revocation_is_the_apps_settings(replay):
    replay.serve("facebook/delete_permissions", status=400,
                 body={"error": {"message": "Invalid OAuth access token signature.", "type": "OAuthException",
                                 "code": 190}})
    with pytest.raises(AppSettingsRefused):
        replay.adapter("facebook").revoke(TokenSet("t", token_type=PAGE_TOKEN, person_external_id=PERSON))


@pytest.mark.parametrize("tokens, other, same", [
    (TokenSet("a", person_external_id="1"), TokenSet("b", person_external_id="1"), True),  # one person
    (TokenSet("a", person_external_id="1"), TokenSet("b", person_external_id="2"), False),
    (TokenSet("a", person_external_id="1"), TokenSet("b"), True),  # kept without its person: maybe theirs
    (TokenSet("a", person_external_id="1"), TokenSet("a", person_external_id="2"), True),  # one token
])
def test_at_meta_one_persons_tokens_rest_on_one_grant(replay, tokens, other, same):
    assert replay.adapter("instagram_business").same_grant(tokens, other) is same


@pytest.mark.parametrize("network", sorted(set(NETWORKS) - set(REVOKE) - META))
def test_the_others_offer_no_revocation_here(replay, network):
    adapter = replay.adapter(network)
    assert not adapter.offers_revocation
    with pytest.raises(NotImplementedError):
        adapter.revoke(TOKENS)
