"""The networks Keepalive connects, one row each in `NETWORKS`: what people
see (label, icon, the native permission a person needs to renew, from
docs/design.md, "Who uses it"), which adapter family speaks to it, which
settings hold its OAuth client, and what it allows or does beyond the
adapter's contract. Nothing else knows which network is which (no
`if network == ...` outside this table and the adapters).

    network("x").label                                # "X"; an unknown key renders under its own name
    adapter = adapter_for("x")                        # settings from current_app
    url = adapter.authorize_url(state, verifier, redirect_uri)
    grant = adapter.exchange_code(code, verifier, redirect_uri)   # -> Grant
    tokens = adapter.refresh(tokens)                 # silent renewal -> TokenSet
    adapter.validate(tokens)                         # -> Validation, or raises
    adapter.classify(status, body, stage)            # pure -> outcomes.Outcome

Every network's consent comes back to the same callback,
`renewal.callback` (`/renew/callback/<key>`).

Each family has one adapter module (`meta_graph`, `meta_login` with
`instagram_login` and `threads`, `x`, `linkedin`, `google`, `tiktok`,
`pinterest`) on the shared interface of `base.Adapter`, with its pure error
rules (`classify_<family>`) beside it. Failures raise `RenewNeeded(reason,
recheck)` (a person must consent again), `Transient(retry_after)` (5xx, 429,
time-outs, Meta's rate limits: keep the token), `AccessTokenRejected` (a
Transient: refresh, then call again with `after_refresh=True`),
`PermissionMissing` (re-consent asking for it), `AppSettingsRefused` (the
network refused Keepalive's own settings: a client secret, a plan, an API
version; never flag the token on it) or `UnexpectedResponse` (nothing
recognised: never flag the token on it either). `refresh` raises
`NotYetRefreshable(not_before)` without calling the network when Instagram or
Threads would refuse (a token under 24 hours old).

Per family:
- facebook, instagram_business: the code's short-lived user token is
  exchanged for a long-lived one; each Page comes with its Page token (no
  expiry) and the long-lived user token in the refresh slot, whose end
  (`refresh_expires_at`) and `data_access_expires_at` come from debug_token.
  Renewal re-exchanges that user token while it is valid. Roles come from
  the Page's `tasks` (MANAGE: may renew); Instagram accounts through their Page.
- instagram, threads: no refresh token; the 60-day access token extends
  itself once 24 hours old and before it expires.
- x, tiktok, pinterest: refresh tokens rotate; the new one is returned and
  the spent one is never used again (nor kept when none comes back).
- linkedin_*: the refresh token's end is what each response says is left
  (refreshing does not extend it); 65601 asks for a second look first.
- youtube, google_business: offline access with PKCE; a refresh without a
  new refresh token keeps the old one.

The adapters speak the real networks' URLs; with the SANDBOX setting on, the
one rewrite in `base.network_url` sends every call to the local sandbox
instead. They import neither views nor jobs nor the sandbox, and no token
reaches an exception message or a log line.
"""
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.networks.base import (
    Adapter,
    Grant,
    GrantedProfile,
    NetworkSettings,
    TokenSet,
    Validation,
    network_url,
    new_code_verifier,
)
from portal.networks.google import GoogleAdapter
from portal.networks.instagram_login import InstagramLoginAdapter
from portal.networks.linkedin import DEFAULT_LINKEDIN_API_VERSION, LinkedInAdapter
from portal.networks.meta_graph import DEFAULT_GRAPH_API_VERSION, MetaGraphAdapter
from portal.networks.outcomes import (
    AccessTokenRejected,
    AppSettingsRefused,
    NetworkError,
    NotASystemUserToken,
    NotYetRefreshable,
    PermissionMissing,
    RenewNeeded,
    Transient,
    UnexpectedResponse,
)
from portal.networks.pinterest import PinterestAdapter
from portal.networks.threads import ThreadsAdapter
from portal.networks.tiktok import TikTokAdapter
from portal.networks.x import XAdapter

# The OAuth client every network's sandbox knows, used when SANDBOX is on and
# no real client is set.
SANDBOX_CLIENT = ("keepalive-sandbox", "sandbox-secret")


@dataclass(frozen=True)
class Network:
    key: str
    label: str
    icon: str  # static/icons/<icon>.svg
    native_permission: str  # what a person needs on the network to renew
    adapter: type[Adapter] | None = None
    client_id_setting: str = ""
    client_secret_setting: str = ""
    # A Business Manager system user's token may stand in for a person's (no
    # one has to consent again when someone leaves).
    takes_system_user_token: bool = False
    # The network's terms: data synced from a profile is deleted when its
    # token stays expired this long.
    deletes_data_after: timedelta | None = None
    # One person's consent renews every profile of theirs it covers (a
    # Facebook login its Pages, a Google account its locations): profiles
    # granted by one person need one consent, not one each.
    one_consent_for_many: bool = False
    # Keepalive's own cap on the health checks of one hourly run, well within
    # the network's rate limits for the call a check makes (docs/networks.md).
    health_checks_per_hour: int = 200

    @property
    def scopes(self):
        """The scopes a consent asks for."""
        if self.adapter is None:
            return ()
        return tuple(self.adapter(self.key, NetworkSettings(client_id="", client_secret="")).scopes)


NETWORKS = {
    n.key: n
    for n in [
        Network("facebook", "Facebook", "facebook",
                _l("Full control (Admin) of the Facebook Page, or of the Business Manager that owns it"),
                MetaGraphAdapter, "FACEBOOK_CLIENT_ID", "FACEBOOK_CLIENT_SECRET", takes_system_user_token=True,
                one_consent_for_many=True),
        Network("instagram_business", "Instagram (Business)", "instagram",
                _l("Full control on the Facebook Page or Business Manager linked to the Instagram account"),
                MetaGraphAdapter, "FACEBOOK_CLIENT_ID", "FACEBOOK_CLIENT_SECRET", takes_system_user_token=True,
                one_consent_for_many=True),
        Network("instagram", "Instagram", "instagram", _l("Access to the Instagram account"),
                InstagramLoginAdapter, "INSTAGRAM_CLIENT_ID", "INSTAGRAM_CLIENT_SECRET"),
        Network("threads", "Threads", "threads", _l("Access to the Threads account"),
                ThreadsAdapter, "THREADS_CLIENT_ID", "THREADS_CLIENT_SECRET"),
        Network("x", "X", "x", _l("Access to the X account"),
                XAdapter, "X_CLIENT_ID", "X_CLIENT_SECRET"),
        Network("linkedin_personal", "LinkedIn", "linkedin", _l("Access to the LinkedIn personal account"),
                LinkedInAdapter, "LINKEDIN_CLIENT_ID", "LINKEDIN_CLIENT_SECRET"),
        Network("linkedin_company", "LinkedIn Page", "linkedin", _l("Super Admin of the LinkedIn company page"),
                LinkedInAdapter, "LINKEDIN_CLIENT_ID", "LINKEDIN_CLIENT_SECRET", one_consent_for_many=True),
        Network("youtube", "YouTube", "youtube",
                _l("Access to the Google account, or the Manager role on a brand account"),
                GoogleAdapter, "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", deletes_data_after=timedelta(days=7)),
        Network("google_business", "Google Business Profile", "google_business",
                _l("Any role on the Google Business Profile"),
                GoogleAdapter, "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", one_consent_for_many=True),
        Network("tiktok", "TikTok", "tiktok", _l("Access to the TikTok account"),
                TikTokAdapter, "TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET"),
        Network("pinterest", "Pinterest", "pinterest", _l("Access to the Pinterest account"),
                PinterestAdapter, "PINTEREST_CLIENT_ID", "PINTEREST_CLIENT_SECRET"),
    ]
}


def network(key):
    """The network of `key`; an unknown key still renders, under its own name."""
    return NETWORKS.get(key) or Network(key, key, "generic", "")


def same_app(key):
    """The network keys whose profiles Keepalive reaches through the same
    OAuth client as `key`'s (Facebook Pages and Instagram business accounts:
    one Meta app), where a grant taken back may end tokens of each."""
    entry = network(key)
    return sorted(k for k, n in NETWORKS.items() if n.client_id_setting == entry.client_id_setting) or [key]


def client_settings():
    """The (client id, client secret) setting names of every network's OAuth client."""
    return sorted({(n.client_id_setting, n.client_secret_setting) for n in NETWORKS.values()})


class NotConfigured(LookupError):
    """An unknown network key, or a network whose client id or secret is not set."""


def settings_for(key, config):
    entry = NETWORKS[key]
    id_name, secret_name = entry.client_id_setting, entry.client_secret_setting
    sandbox = bool(config.get("SANDBOX"))
    client_id = config.get(id_name) or (SANDBOX_CLIENT[0] if sandbox else "")
    client_secret = config.get(secret_name) or (SANDBOX_CLIENT[1] if sandbox else "")
    if not client_id or not client_secret:
        raise NotConfigured(f"Set {id_name} and {secret_name} to connect {key} profiles.")
    return NetworkSettings(
        client_id=client_id,
        client_secret=client_secret,
        timeout=float(config.get("NETWORK_TIMEOUT") or 10),
        sandbox_base_url=(config.get("SANDBOX_BASE_URL") or config.get("BASE_URL")) if sandbox else None,
        graph_api_version=config.get("GRAPH_API_VERSION") or DEFAULT_GRAPH_API_VERSION,
        linkedin_api_version=config.get("LINKEDIN_API_VERSION") or DEFAULT_LINKEDIN_API_VERSION,
    )


def adapter_for(key, config=None):
    """The adapter of network `key`, configured from `config` (default: the current app's)."""
    if key not in NETWORKS:
        raise NotConfigured(f"Unknown network {key!r}.")
    config = current_app.config if config is None else config
    return NETWORKS[key].adapter(key, settings_for(key, config))


__all__ = [
    "DEFAULT_GRAPH_API_VERSION",
    "DEFAULT_LINKEDIN_API_VERSION",
    "NETWORKS",
    "SANDBOX_CLIENT",
    "AccessTokenRejected",
    "AppSettingsRefused",
    "Grant",
    "GrantedProfile",
    "Network",
    "NetworkError",
    "NotASystemUserToken",
    "NotConfigured",
    "NotYetRefreshable",
    "PermissionMissing",
    "RenewNeeded",
    "TokenSet",
    "Transient",
    "UnexpectedResponse",
    "Validation",
    "adapter_for",
    "client_settings",
    "network",
    "network_url",
    "same_app",
    "new_code_verifier",
]
