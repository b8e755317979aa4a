"""Network key -> adapter. The one place that knows which family serves a
network and which settings hold its OAuth client."""
from flask import current_app

from portal.networks.base import NetworkSettings
from portal.networks.google import GoogleAdapter
from portal.networks.instagram_login import InstagramLoginAdapter
from portal.networks.linkedin import LinkedInAdapter
from portal.networks.meta_graph import MetaGraphAdapter
from portal.networks.pinterest import PinterestAdapter
from portal.networks.threads import ThreadsAdapter
from portal.networks.tiktok import TikTokAdapter
from portal.networks.x import XAdapter

SANDBOX_CLIENT = ("keepalive-sandbox", "sandbox-secret")

# network key: (adapter class, client id setting, client secret setting)
ADAPTERS = {
    "facebook": (MetaGraphAdapter, "FACEBOOK_CLIENT_ID", "FACEBOOK_CLIENT_SECRET"),
    "instagram_business": (MetaGraphAdapter, "FACEBOOK_CLIENT_ID", "FACEBOOK_CLIENT_SECRET"),
    "instagram": (InstagramLoginAdapter, "INSTAGRAM_CLIENT_ID", "INSTAGRAM_CLIENT_SECRET"),
    "threads": (ThreadsAdapter, "THREADS_CLIENT_ID", "THREADS_CLIENT_SECRET"),
    "x": (XAdapter, "X_CLIENT_ID", "X_CLIENT_SECRET"),
    "linkedin_personal": (LinkedInAdapter, "LINKEDIN_CLIENT_ID", "LINKEDIN_CLIENT_SECRET"),
    "linkedin_company": (LinkedInAdapter, "LINKEDIN_CLIENT_ID", "LINKEDIN_CLIENT_SECRET"),
    "youtube": (GoogleAdapter, "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"),
    "google_business": (GoogleAdapter, "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"),
    "tiktok": (TikTokAdapter, "TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET"),
    "pinterest": (PinterestAdapter, "PINTEREST_CLIENT_ID", "PINTEREST_CLIENT_SECRET"),
}
NETWORK_KEYS = tuple(ADAPTERS)


class NotConfigured(LookupError):
    """An unknown network key, or a network whose client id or secret is not set."""


def settings_for(network, config):
    _, id_name, secret_name = ADAPTERS[network]
    sandbox = bool(config.get("SANDBOX"))
    client_id = config.get(id_name) or (SANDBOX_CLIENT[0] if sandbox else "")
    client_secret = config.get(secret_name) or (SANDBOX_CLIENT[1] if sandbox else "")
    if not client_id or not client_secret:
        raise NotConfigured(f"Set {id_name} and {secret_name} to connect {network} profiles.")
    return NetworkSettings(
        client_id=client_id,
        client_secret=client_secret,
        timeout=float(config.get("NETWORK_TIMEOUT") or 10),
        sandbox_base_url=(config.get("SANDBOX_BASE_URL") or config.get("BASE_URL")) if sandbox else None,
        graph_api_version=config.get("GRAPH_API_VERSION") or "v21.0",
    )


def adapter_for(network, config=None):
    """The adapter of `network`, configured from `config` (default: the current app's)."""
    if network not in ADAPTERS:
        raise NotConfigured(f"Unknown network {network!r}.")
    config = current_app.config if config is None else config
    return ADAPTERS[network][0](network, settings_for(network, config))


def requested_scopes(network):
    """The scopes a consent for `network` asks for, space-separated."""
    return " ".join(ADAPTERS[network][0](network, NetworkSettings(client_id="", client_secret="")).scopes)
