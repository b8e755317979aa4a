"""The network adapters: one per network family behind one small interface
(`base.Adapter`), reached through `registry.adapter_for(network_key)`.

They speak the real networks' URLs; with the SANDBOX setting on, the one
rewrite in `base.network_url` sends every call to the local sandbox instead.
They import neither views nor jobs nor the sandbox.
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
