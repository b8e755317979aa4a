"""The network table and the adapters' shared rules, without a network: URLs,
clients, token sets, and the refresh rules decided before any call."""
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.config import Config
from portal.models import CanRenew, InvalidReason
from portal.networks import (
    NETWORKS,
    NotConfigured,
    NotYetRefreshable,
    RenewNeeded,
    TokenSet,
    adapter_for,
    client_settings,
    network,
    network_url,
    new_code_verifier,
)
from portal.networks.base import moment, tls_context

SANDBOX = {"SANDBOX": True, "BASE_URL": "http://127.0.0.1:5000", "NETWORK_TIMEOUT": 3, "GRAPH_API_VERSION": "v25.0"}
REAL = {
    "SANDBOX": False, "BASE_URL": "https://keepalive.example", "GRAPH_API_VERSION": "v22.0",
    **{f"{p}_CLIENT_ID": f"{p.lower()}-id" for p in ("FACEBOOK", "INSTAGRAM", "THREADS", "X", "LINKEDIN", "GOOGLE",
                                                       "PINTEREST")},
    **{f"{p}_CLIENT_SECRET": f"{p.lower()}-secret" for p in ("FACEBOOK", "INSTAGRAM", "THREADS", "X", "LINKEDIN",
                                                               "GOOGLE", "TIKTOK", "PINTEREST")},
    "TIKTOK_CLIENT_KEY": "tiktok-key",
}
NOW = datetime.now(UTC)
ICONS = Path(__file__).parents[2] / "static" / "icons"


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_every_network_key_has_an_adapter():
    assert set(NETWORKS) == {
        "facebook", "instagram_business", "instagram", "threads", "x", "linkedin_personal", "linkedin_company",
        "youtube", "google_business", "tiktok", "pinterest",
    }
    families = {key: adapter_for(key, SANDBOX).family for key in NETWORKS}
    assert families["facebook"] == families["instagram_business"] == "meta_graph"
    assert families["linkedin_personal"] == families["linkedin_company"] == "linkedin"
    assert families["youtube"] == families["google_business"] == "google"
    assert len(set(families.values())) == 8


def test_every_network_shows_a_name_an_icon_and_the_right_to_renew():
    for entry in NETWORKS.values():
        assert entry.label and (ICONS / f"{entry.icon}.svg").is_file()
        assert str(entry.native_permission)
        assert entry.scopes


def test_an_unknown_network_still_renders_under_its_own_name():
    unknown = network("myspace")
    assert (unknown.label, unknown.icon, unknown.adapter, unknown.scopes) == ("myspace", "generic", None, ())
    assert network("x") is NETWORKS["x"]


def test_only_networks_whose_adapter_adopts_a_system_users_token_offer_one():
    offered = {key for key, entry in NETWORKS.items() if entry.takes_system_user_token}
    assert offered == {"facebook", "instagram_business"}
    assert all(hasattr(NETWORKS[key].adapter, "adopt_system_user_token") for key in offered)


def test_youtube_alone_deletes_data_while_a_token_stays_expired():
    deleting = {key: entry.deletes_data_after for key, entry in NETWORKS.items() if entry.deletes_data_after}
    assert deleting == {"youtube": timedelta(days=7)}


def test_the_sandbox_rewrite():
    base = "http://127.0.0.1:5000"
    assert network_url("https://graph.facebook.com/v21.0/oauth/access_token?a=1", base) == (
        "http://127.0.0.1:5000/sandbox/graph.facebook.com/v21.0/oauth/access_token?a=1")
    assert network_url("https://www.pinterest.com/oauth/", base + "/") == (
        "http://127.0.0.1:5000/sandbox/www.pinterest.com/oauth/")
    assert network_url("https://api.x.com/2/users/me", None) == "https://api.x.com/2/users/me"
    # already rewritten (a paging link the sandbox sent): left alone
    assert network_url(base + "/sandbox/graph.facebook.com/x", base) == base + "/sandbox/graph.facebook.com/x"


def test_real_mode_uses_real_urls_and_each_networks_client():
    url = adapter_for("facebook", REAL).authorize_url("s", None, "https://keepalive.example/renew/callback/facebook")
    assert url.startswith("https://www.facebook.com/v22.0/dialog/oauth?")
    assert query(url)["client_id"] == "facebook-id"
    assert query(adapter_for("tiktok", REAL).authorize_url("s", None, "https://k/cb"))["client_key"] == "tiktok-key"
    # Threads' current hosts
    assert adapter_for("threads", REAL).authorize_url("s", None, "https://k/cb").startswith(
        "https://threads.com/oauth/authorize?")
    assert adapter_for("threads", REAL).token_endpoint == "https://graph.threads.com/oauth/access_token"


def test_every_networks_client_verifies_tls_with_one_context_made_once():
    """Making a TLS context reads every authority's certificate: the clients
    of every call share the one `tls_context` makes, verifying as httpx2 does."""
    contexts = set()
    for key in ("facebook", "x", "tiktok", "pinterest"):
        for _ in range(2):
            with adapter_for(key, REAL).client() as client:
                contexts.add(id(client._transport._pool._ssl_context))  # httpx2's transport, httpcore2's pool
    assert contexts == {id(tls_context())}
    assert tls_context().verify_mode == ssl.CERT_REQUIRED and tls_context().check_hostname
    assert tls_context().get_ca_certs() or tls_context().cert_store_stats()["x509_ca"]


def test_config_reads_clients_from_the_environment(tmp_path):
    config = Config(tmp_path, {"SANDBOX": "1", "X_CLIENT_ID": "real-x", "NETWORK_TIMEOUT": "4"}).as_dict()
    assert all(id_name in config and secret_name in config for id_name, secret_name in client_settings())
    assert config["X_CLIENT_ID"] == "real-x"
    assert config["X_CLIENT_SECRET"] == "sandbox-secret"
    assert config["TIKTOK_CLIENT_KEY"] == "keepalive-sandbox"
    assert config["NETWORK_TIMEOUT"] == 4.0
    assert config["GRAPH_API_VERSION"] == "v26.0"
    off = Config(tmp_path, {"SANDBOX": "0"}).as_dict()
    assert off["FACEBOOK_CLIENT_ID"] == ""
    with pytest.raises(NotConfigured, match="FACEBOOK_CLIENT_ID"):
        adapter_for("facebook", off)


def test_an_unknown_network_is_refused():
    with pytest.raises(NotConfigured):
        adapter_for("myspace", SANDBOX)


@pytest.mark.parametrize("network", NETWORKS)
def test_authorize_url(network):
    verifier = new_code_verifier()
    redirect_uri = f"http://127.0.0.1:5000/renew/callback/{network}"
    url = adapter_for(network, SANDBOX).authorize_url("the-state", verifier, redirect_uri)
    params = query(url)
    assert url.startswith("http://127.0.0.1:5000/sandbox/")
    assert params["state"] == "the-state"
    assert params["redirect_uri"] == redirect_uri
    assert params["response_type"] == "code"
    assert params["scope"]
    assert verifier not in url
    if network == "tiktok":
        assert params["client_key"] == "keepalive-sandbox" and "client_id" not in params
    else:
        assert params["client_id"] == "keepalive-sandbox"
    if network in ("x", "youtube", "google_business"):
        assert params["code_challenge_method"] == "S256"
        assert len(params["code_challenge"]) == 43
    else:
        assert "code_challenge" not in params
    if network in ("youtube", "google_business"):
        assert params["access_type"] == "offline" and params["prompt"] == "consent"


def test_pkce_challenge_is_s256_of_the_verifier():
    import base64
    import hashlib

    verifier = new_code_verifier()
    assert 43 <= len(verifier) <= 128
    url = adapter_for("x", SANDBOX).authorize_url("s", verifier, "http://127.0.0.1:5000/cb")
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query(url)["code_challenge"] == digest


def test_token_set_never_prints_a_token():
    tokens = TokenSet("secret-access", "secret-refresh")
    assert "secret" not in repr(tokens) and "secret" not in str(tokens)


def test_token_set_from_a_response():
    adapter = adapter_for("tiktok", SANDBOX)
    tokens = adapter.token_set(
        {"access_token": "a", "refresh_token": "r", "expires_in": 86400, "refresh_expires_in": 31536000,
         "scope": "user.info.basic,video.publish"}, now=NOW)
    assert tokens.expires_at == NOW + timedelta(days=1)
    assert tokens.refresh_expires_at == NOW + timedelta(days=365)
    assert tokens.scopes == "user.info.basic video.publish"
    assert tokens.issued_at == NOW


def test_google_keeps_the_refresh_token_it_was_not_sent_again():
    adapter = adapter_for("youtube", SANDBOX)
    before = TokenSet("a", "keep-me", scopes="s")
    after = adapter.token_set({"access_token": "b", "expires_in": 3599}, previous=before, now=NOW)
    assert after.refresh_token == "keep-me" and after.scopes == "s"


def test_linkedin_keeps_the_refresh_end_it_is_told():
    adapter = adapter_for("linkedin_personal", SANDBOX)
    before = TokenSet("a", "r", refresh_expires_at=NOW + timedelta(days=300))
    after = adapter.token_set({"access_token": "b", "refresh_token": "r", "expires_in": 5184000,
                               "refresh_token_expires_in": 86400 * 200}, previous=before, now=NOW)
    assert after.refresh_expires_at == NOW + timedelta(days=200)
    silent = adapter.token_set({"access_token": "b", "refresh_token": "r", "expires_in": 5184000},
                               previous=before, now=NOW)
    assert silent.refresh_expires_at == before.refresh_expires_at


def test_rotating_networks_never_fall_back_to_the_spent_refresh_token():
    adapter = adapter_for("x", SANDBOX)
    after = adapter.token_set({"access_token": "b", "expires_in": 7200}, previous=TokenSet("a", "spent"), now=NOW)
    assert after.refresh_token is None


@pytest.mark.parametrize("network", ["instagram", "threads"])
def test_instagram_and_threads_wait_24_hours(network):
    adapter = adapter_for(network, SANDBOX)
    young = TokenSet("t", expires_at=NOW + timedelta(days=59), issued_at=NOW - timedelta(hours=23))
    with pytest.raises(NotYetRefreshable) as caught:
        adapter.refresh(young)
    assert caught.value.not_before == young.issued_at + timedelta(hours=24)
    expired = TokenSet("t", expires_at=NOW - timedelta(seconds=1), issued_at=NOW - timedelta(days=61))
    with pytest.raises(RenewNeeded) as caught:
        adapter.refresh(expired)
    assert caught.value.reason == InvalidReason.EXPIRED
    assert adapter.can_refresh(young) and not adapter.can_refresh(expired)


def test_facebook_does_not_exchange_an_expired_user_token():
    adapter = adapter_for("facebook", SANDBOX)
    user = TokenSet("user", "user", refresh_expires_at=NOW - timedelta(minutes=1), token_type="user")
    with pytest.raises(RenewNeeded) as caught:
        adapter.refresh(user)
    assert caught.value.reason == InvalidReason.EXPIRED
    assert adapter.can_refresh(user)
    # A Page token has nothing to renew silently: its data access ends, and a consent renews it.
    assert not adapter.can_refresh(TokenSet("page", "user", token_type="page"))
    assert not adapter.can_refresh(TokenSet("system-user-page-token", token_type="system_user"))


def test_moments():
    assert moment(0) is None and moment(None) is None
    assert moment(1700000000) == datetime.fromtimestamp(1700000000, UTC)
    assert moment("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
