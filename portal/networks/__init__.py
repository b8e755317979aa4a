"""The network adapters: one per network family behind one small interface
(`base.Adapter`), reached through `registry.adapter_for(network_key)`.

    adapter = adapter_for("x")                      # settings from current_app
    url = adapter.authorize_url(state, verifier, redirect_uri)
    grant = adapter.exchange_code(code, verifier, redirect_uri)   # -> Grant
    tokens = adapter.refresh(tokens)                 # silent renewal -> TokenSet
    adapter.validate(tokens)                         # -> Validation, or raises
    adapter.classify(status, body, stage)            # pure -> outcomes.Outcome

Failures raise `RenewNeeded(reason, recheck)` (a person must consent again),
`Transient(retry_after)` (5xx, 429, time-outs, Meta's rate limits: keep the
token), `AccessTokenRejected` (a Transient: refresh, then call again with
`after_refresh=True`), `PermissionMissing` (re-consent asking for it) or
`UnexpectedResponse` (nothing recognised: never flag the token on it).
`refresh` raises `NotYetRefreshable(not_before)` without calling the network
when Instagram or Threads would refuse (a token under 24 hours old).

Per network:
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

They speak the real networks' URLs; with the SANDBOX setting on, the one
rewrite in `base.network_url` sends every call to the local sandbox instead.
They import neither views nor jobs nor the sandbox, and no token reaches an
exception message or a log line.
"""
from portal.networks.base import (
    Grant,
    GrantedProfile,
    TokenSet,
    Validation,
    network_url,
    new_code_verifier,
)
from portal.networks.outcomes import (
    AccessTokenRejected,
    NetworkError,
    NotASystemUserToken,
    NotYetRefreshable,
    PermissionMissing,
    RenewNeeded,
    Transient,
    UnexpectedResponse,
)
from portal.networks.registry import NETWORK_KEYS, NotConfigured, adapter_for

__all__ = [
    "NETWORK_KEYS",
    "AccessTokenRejected",
    "Grant",
    "GrantedProfile",
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
    "network_url",
    "new_code_verifier",
]
