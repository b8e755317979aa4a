"""X (Twitter) accounts: OAuth 2.0 with PKCE; refresh tokens are single use."""
from portal.networks.base import Adapter, Validation
from portal.networks.outcomes import Stage, classify_x

USERS_ME = "https://api.x.com/2/users/me"


class XAdapter(Adapter):
    family = "x"
    authorize_endpoint = "https://x.com/i/oauth2/authorize"
    token_endpoint = "https://api.x.com/2/oauth2/token"
    scopes = ("tweet.read", "tweet.write", "users.read", "offline.access")
    uses_pkce = True
    # A confidential client: HTTP Basic, with client_id in the body as X asks.
    token_endpoint_auth_method = "client_secret_basic"
    rotates_refresh_token = True
    classify = staticmethod(classify_x)

    def exchange_code(self, code, code_verifier=None, redirect_uri=None):
        token = self.fetch_token(code, code_verifier, redirect_uri, client_id=self.settings.client_id)
        tokens = self.token_set(token)
        user = self.get(USERS_ME, token=tokens.access_token).get("data") or {}
        username = user.get("username")
        return self.single_profile(user.get("id"), user.get("name"), f"@{username}" if username else "", tokens)

    def refresh(self, tokens):
        """The new access AND refresh token: the old refresh token is spent."""
        return self.refresh_grant(tokens, client_id=self.settings.client_id)

    def validate(self, tokens, after_refresh=False):
        self.get(USERS_ME, token=tokens.access_token, stage=Stage.RETRY if after_refresh else Stage.API)
        return Validation(ok=True, expires_at=tokens.expires_at, scopes=tokens.scopes)
