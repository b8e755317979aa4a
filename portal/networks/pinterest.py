"""Pinterest accounts (API v5): HTTP Basic at the token endpoint, and
"continuous" refresh tokens, each refresh returning a new one to persist."""
from portal.networks.base import Adapter, Validation
from portal.networks.outcomes import Stage, classify_pinterest

USER_ACCOUNT = "https://api.pinterest.com/v5/user_account"


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
