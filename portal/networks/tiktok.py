"""TikTok accounts (Login Kit v2): `client_key` where OAuth says `client_id`,
and refresh tokens that rotate."""
from authlib.common.urls import add_params_to_qs, url_decode, urlparse

from portal.models import InvalidReason
from portal.networks.base import Adapter, Validation
from portal.networks.outcomes import (
    OK,
    Stage,
    app_settings,
    is_success,
    oauth_error,
    permission,
    reason_from_text,
    refresh_first,
    renew,
    server_side,
    transient,
    unexpected,
)

USER_INFO = "https://open.tiktokapis.com/v2/user/info/"
# The fields of user/info each scope lets an app read (TikTok's scope
# migration moved `username` from user.info.basic to user.info.profile).
FIELDS_BY_SCOPE = {
    "user.info.basic": ("open_id", "union_id", "display_name"),
    "user.info.profile": ("username",),
}

# The person did not grant a scope: they must consent again, granting it.
TIKTOK_PERMISSION_CODES = {"scope_not_authorized"}
# Refusals of the app itself: its client key or secret, or fields asked for
# that the granted scopes do not cover (the request is the app's).
TIKTOK_APP_CODES = {"invalid_client", "unauthorized_client", "scope_permission_missed"}
TIKTOK_TRANSIENT_CODES = {"rate_limit_exceeded", "internal_error"}


def classify_tiktok(status, body, stage=Stage.API):
    error, description = oauth_error(body)
    if error == "invalid_grant":
        return renew(reason_from_text(description), f"TikTok: invalid_grant {description}".strip())
    api_error = body.get("error") if isinstance(body, dict) else None
    code = api_error.get("code") if isinstance(api_error, dict) else error
    message = api_error.get("message", "") if isinstance(api_error, dict) else description
    if code in TIKTOK_APP_CODES:
        return app_settings(f"TikTok: {code} {message}".strip())
    if code in TIKTOK_PERMISSION_CODES:
        return permission(f"TikTok: {code} {message}".strip())
    if code == "access_token_invalid":
        if stage == Stage.RETRY:
            return renew(InvalidReason.UNKNOWN, "TikTok refused the access token again after a refresh")
        return refresh_first(f"TikTok: access_token_invalid {message}".strip())
    if code in TIKTOK_TRANSIENT_CODES:
        return transient(f"TikTok: {code}")
    server = server_side(status)
    if server:
        return server
    if code not in (None, "ok") or not is_success(status):
        return unexpected(f"TikTok: {code or 'HTTP ' + str(status)} {message}".strip())
    return OK


def client_key_post(client, method, uri, headers, body):
    """TikTok's token endpoint: the client as `client_key` and `client_secret` in the body."""
    body = add_params_to_qs(body or "", [("client_key", client.client_id), ("client_secret", client.client_secret)])
    if "Content-Length" in headers:
        headers["Content-Length"] = str(len(body))
    return uri, headers, body


def client_key_in_url(url):
    """An authorize URL with `client_key` in place of `client_id`."""
    parts = urlparse.urlsplit(url)
    query = [("client_key" if key == "client_id" else key, value) for key, value in url_decode(parts.query)]
    return urlparse.urlunsplit(parts._replace(query=add_params_to_qs("", query)))


class TikTokAdapter(Adapter):
    family = "tiktok"
    authorize_endpoint = "https://www.tiktok.com/v2/auth/authorize/"
    token_endpoint = "https://open.tiktokapis.com/v2/oauth/token/"
    # https://developers.tiktok.com/doc/oauth-user-access-token-management (Revoke access): the access token.
    revocation_endpoint = "https://open.tiktokapis.com/v2/oauth/revoke/"
    revokes_with = "access_token"
    scopes = ("user.info.basic", "user.info.profile", "video.publish", "video.upload")
    scope_separator = ","
    token_endpoint_auth_method = "client_key_post"
    rotates_refresh_token = True
    classify = staticmethod(classify_tiktok)

    def prepare_client(self, client):
        client.register_client_auth_method(("client_key_post", client_key_post))

    def adjust_authorize_url(self, url):
        return client_key_in_url(url)

    def exchange_code(self, code, code_verifier=None, redirect_uri=None):
        token = self.fetch_token(code, redirect_uri=redirect_uri)
        tokens = self.token_set(token)
        user = self.user(tokens)
        username = user.get("username")
        return self.single_profile(
            user.get("open_id") or token.get("open_id"), user.get("display_name"),
            f"@{username}" if username else "", tokens,
        )

    def refresh(self, tokens):
        return self.refresh_grant(tokens)

    def validate(self, tokens, after_refresh=False):
        self.user(tokens, Stage.RETRY if after_refresh else Stage.API)
        return Validation(ok=True, expires_at=tokens.expires_at, scopes=tokens.scopes)

    def user(self, tokens, stage=Stage.API):
        """user/info, asking only for the fields the granted scopes allow:
        one more would be refused (`scope_permission_missed`)."""
        body = self.get(USER_INFO, token=tokens.access_token, params={"fields": ",".join(user_fields(tokens.scopes))},
                        stage=stage)
        return (body.get("data") or {}).get("user") or {}


def user_fields(scopes):
    """The user/info fields `scopes` (space-separated, as stored) allow; the
    basic ones when the grant did not say which scopes it holds."""
    granted = set(scopes.split()) or {"user.info.basic"}
    return [name for scope, names in FIELDS_BY_SCOPE.items() if scope in granted for name in names]
