"""X (Twitter) accounts: OAuth 2.0 with PKCE; refresh tokens are single use."""
from portal.networks.base import Adapter, Validation, retry_after, utcnow
from portal.models import InvalidReason
from portal.networks.outcomes import (
    OK,
    Stage,
    app_settings,
    is_success,
    oauth_error,
    reason_from_text,
    refresh_first,
    renew,
    server_side,
    unexpected,
)

USERS_ME = "https://api.x.com/2/users/me"


def classify_x(status, body, stage=Stage.API):
    error, description = oauth_error(body)
    if error in ("invalid_client", "unauthorized_client"):
        # The token endpoint refusing the app's client id and secret (HTTP Basic).
        return app_settings(f"X: {error} {description}".strip())
    if error == "invalid_grant":
        return renew(reason_from_text(description), f"X: invalid_grant {description}".strip())
    if error == "invalid_request" and "token was invalid" in description.lower():
        return renew(InvalidReason.UNKNOWN, f"X: {description}")
    server = server_side(status)
    if server:
        return server
    if status == 401:
        if stage == Stage.RETRY:
            return renew(InvalidReason.UNKNOWN, "X refused the access token again after a refresh")
        if stage == Stage.API:
            return refresh_first("X refused the access token")
    if status == 403:
        # The app's access, project or plan (client-forbidden, 453), or a
        # scope the consent always asks for: never the person's token.
        return app_settings(_describe(body, "X: forbidden"))
    if error or not is_success(status):
        return unexpected(f"X: {error or 'HTTP ' + str(status)} {description}".strip())
    return OK


def _describe(body, default):
    if isinstance(body, dict):
        for key in ("detail", "title", "message", "error_description"):
            if body.get(key):
                return f"{default}: {body[key]}"
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict) and errors[0].get("message"):
            return f"{default}: {errors[0].get('code', '')} {errors[0]['message']}".strip()
    return default


def x_wait(response):
    """Seconds until X resets the rate limit window (`x-rate-limit-reset`, an
    epoch), else `Retry-After`
    (https://docs.x.com/x-api/fundamentals/rate-limits)."""
    reset = response.headers.get("x-rate-limit-reset")
    try:
        return max(0, int(reset) - int(utcnow().timestamp()))
    except (TypeError, ValueError):
        return retry_after(response.headers.get("Retry-After"))


class XAdapter(Adapter):
    family = "x"
    authorize_endpoint = "https://x.com/i/oauth2/authorize"
    token_endpoint = "https://api.x.com/2/oauth2/token"
    # https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/user-access-token (Revoke token)
    revocation_endpoint = "https://api.x.com/2/oauth2/revoke"
    scopes = ("tweet.read", "tweet.write", "users.read", "offline.access")
    uses_pkce = True
    # A confidential client: HTTP Basic, with client_id in the body as X asks.
    token_endpoint_auth_method = "client_secret_basic"
    rotates_refresh_token = True
    classify = staticmethod(classify_x)
    wait_for = staticmethod(x_wait)

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
