"""Pinterest accounts (API v5): HTTP Basic at the token endpoint, and
"continuous" refresh tokens, each refresh returning a new one to persist."""
from portal.models import InvalidReason
from portal.networks.base import Adapter, Validation
from portal.networks.outcomes import (
    OK,
    Stage,
    is_success,
    oauth_error,
    permission,
    reason_from_text,
    refresh_first,
    renew,
    server_side,
    unexpected,
)

USER_ACCOUNT = "https://api.pinterest.com/v5/user_account"


def classify_pinterest(status, body, stage=Stage.API):
    server = server_side(status)
    if server:
        return server
    if is_success(status) and not oauth_error(body)[0]:
        return OK
    code = body.get("code") if isinstance(body, dict) else None
    message = str((body or {}).get("message") or oauth_error(body)[1]) if isinstance(body, dict) else ""
    if stage == Stage.TOKEN:
        # Any refused refresh means the grant is gone.
        return renew(reason_from_text(message), f"Pinterest: refresh refused {message}".strip())
    if status == 401 or code == 2:
        if stage == Stage.RETRY:
            return renew(InvalidReason.UNKNOWN, f"Pinterest: {message or 'authentication failed'} after a refresh")
        return refresh_first(f"Pinterest: {message or 'authentication failed'}")
    if status == 403:
        return permission(f"Pinterest: {message or 'forbidden'}")
    return unexpected(f"Pinterest: HTTP {status} {message}".strip())


class PinterestAdapter(Adapter):
    family = "pinterest"
    authorize_endpoint = "https://www.pinterest.com/oauth/"
    token_endpoint = "https://api.pinterest.com/v5/oauth/token"
    scopes = ("boards:read", "pins:read", "pins:write", "user_accounts:read")
    scope_separator = ","
    token_endpoint_auth_method = "client_secret_basic"
    rotates_refresh_token = True
    classify = staticmethod(classify_pinterest)

    def exchange_code(self, code, code_verifier=None, redirect_uri=None):
        token = self.fetch_token(code, redirect_uri=redirect_uri, continuous_refresh="true")
        tokens = self.token_set(token)
        account = self.get(USER_ACCOUNT, token=tokens.access_token)
        username = account.get("username")
        return self.single_profile(
            account.get("id") or username, account.get("business_name") or username,
            f"@{username}" if username else "", tokens,
        )

    def refresh(self, tokens):
        return self.refresh_grant(tokens)

    def validate(self, tokens, after_refresh=False):
        self.get(USER_ACCOUNT, token=tokens.access_token, stage=Stage.RETRY if after_refresh else Stage.API)
        return Validation(ok=True, expires_at=tokens.expires_at, scopes=tokens.scopes)
