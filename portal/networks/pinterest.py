"""Pinterest accounts (API v5): HTTP Basic at the token endpoint, and
"continuous" refresh tokens, each refresh returning a new one to persist.

Pinterest answers a wrong client id or secret as it answers a dead refresh
token (401 `{"code": 2, "message": "Authentication failed."}`), so a refused
token request is followed by one check of the app before anyone's token is
called dead (`app_refused`)."""
import httpx2

from portal.models import InvalidReason
from portal.networks.base import Adapter, Validation
from portal.networks.outcomes import (
    OK,
    AppSettingsRefused,
    RenewNeeded,
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
        try:
            token = self.fetch_token(code, redirect_uri=redirect_uri, continuous_refresh="true")
        except RenewNeeded:
            self.check_app()
            raise
        tokens = self.token_set(token)
        account = self.get(USER_ACCOUNT, token=tokens.access_token)
        username = account.get("username")
        return self.single_profile(
            account.get("id") or username, account.get("business_name") or username,
            f"@{username}" if username else "", tokens,
        )

    def refresh(self, tokens):
        try:
            return self.refresh_grant(tokens)
        except RenewNeeded:
            self.check_app()
            raise

    def check_app(self):
        """Raise AppSettingsRefused when Pinterest refuses the app's own client
        id and secret: a token request with nothing but them (the
        client_credentials grant) is refused with the same "Authentication
        failed." only when they are wrong; any other answer clears them."""
        with self.client() as client:
            response = self.call(
                client.request, "POST", self.token_endpoint, withhold_token=True,
                data={"grant_type": "client_credentials"},
                auth=httpx2.BasicAuth(self.settings.client_id, self.settings.client_secret),
            )
        if app_refused(response.status_code, _json(response)):
            raise AppSettingsRefused("Pinterest refused the app's client id and secret (Authentication failed.)")

    def validate(self, tokens, after_refresh=False):
        self.get(USER_ACCOUNT, token=tokens.access_token, stage=Stage.RETRY if after_refresh else Stage.API)
        return Validation(ok=True, expires_at=tokens.expires_at, scopes=tokens.scopes)


def app_refused(status, body):
    """Whether an answer to the app's own credentials refuses them."""
    return status == 401 and (not isinstance(body, dict) or body.get("code") in (2, None))


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None
