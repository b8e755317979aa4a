"""TikTok Login Kit v2: the client is named by `client_key`; access tokens
live 24 hours; refreshing rotates the refresh token (the old one stops
working) within its `refresh_expires_in` (365 days from consent); errors are
`{"error", "error_description", "log_id"}`."""
from devkit.sandbox import consent, store
from devkit.sandbox.protocol import Provider, bearer, endpoint, expires_in, param, reply, route, seen

DAY = 86400
ACCESS_LIFETIME = DAY
REFRESH_LIFETIME = 365 * DAY

# The scope each user/info field needs (TikTok's user info scope migration moved
# the profile fields, username among them, to user.info.profile).
FIELD_SCOPES = {
    "open_id": "user.info.basic", "union_id": "user.info.basic", "avatar_url": "user.info.basic",
    "display_name": "user.info.basic", "username": "user.info.profile", "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile", "is_verified": "user.info.profile",
    "follower_count": "user.info.stats", "following_count": "user.info.stats", "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}

TIKTOK = Provider(
    key="tiktok", title="TikTok", colour="#fe2c55", network_for=lambda scopes: "tiktok", client_param="client_key",
    pkce="optional",
    deny=lambda _r: {"error": "access_denied", "error_description": "The user denied the authorization request"},
    code_params=lambda req, code: {"code": code, "scopes": ",".join(req["scopes"])},
)


def _error(status, error, description):
    return reply(status, {"error": error, "error_description": description, "log_id": store.new_secret("", 12)})


def _api_error(status, code, message):
    return reply(status, {"data": {}, "error": {"code": code, "message": message, "log_id": store.new_secret("", 12)}})


def tiktok_fault(mode):
    log_id = store.new_secret("", 12)
    if mode == "permission":
        return 401, {"data": {}, "error": {"code": "scope_not_authorized", "log_id": log_id, "message": (
            "The user did not authorize the scope required for completing this request.")}}
    if mode == "unexpected":
        return 400, {"data": {}, "error": {"code": "invalid_params", "log_id": log_id,
                                           "message": "The request parameters are invalid."}}
    if mode == "429":
        return 429, {"error": "rate_limit_exceeded", "error_description": "Too many requests.", "log_id": log_id}
    if mode == "timeout":
        return 504, {"error": "server_error", "error_description": "Gateway time-out.", "log_id": log_id}
    return 500, {"error": "server_error", "error_description": "Internal error.", "log_id": log_id}


def _token_reply(c, grant):
    account = store.account(c, grant["account_id"])
    return reply(200, {
        "access_token": grant["access_token"], "expires_in": expires_in(grant["access_expires_at"]),
        "open_id": account["external_id"], "refresh_expires_in": expires_in(grant["refresh_expires_at"]),
        "refresh_token": grant["refresh_token"], "scope": ",".join(grant["scopes"].split()), "token_type": "Bearer",
    })


CODE_ERRORS = {
    "expired": "Authorization code is expired.",
    "used": "Authorization code has been used.",
    "redirect_uri": "Redirect URI does not match the one of the authorization request.",
    "pkce": "Code verifier or code challenge is invalid.",
}


@endpoint("tiktok", "v2/oauth/token", tiktok_fault)
def token():
    client_key = param("client_key")
    with store.transaction() as c:
        if not store.client_ok(c, "tiktok", client_key, param("client_secret")):
            return _error(401, "invalid_client", "Client key or secret is incorrect.")
        lifetime = store.setting(c, ["tiktok"], "access_lifetime", ACCESS_LIFETIME)
        grant_type = param("grant_type")
        if grant_type == "authorization_code":
            code, why = store.redeem_code(c, "tiktok", param("code"), client_key, param("redirect_uri"),
                                          param("code_verifier"))
            if code is None:
                return _error(400, "invalid_grant", CODE_ERRORS.get(why, "Authorization code is invalid."))
            grant = store.issue(
                c, "tiktok", "tiktok", client_key, code["person_id"], account_id=code["account_id"],
                scopes=code["scopes"], access_lifetime=lifetime, refresh=True,
                refresh_lifetime=store.setting(c, ["tiktok"], "refresh_lifetime", REFRESH_LIFETIME),
                code=code["code"], access_prefix="act.", refresh_prefix="rft.",
            )
            return _token_reply(c, grant)
        if grant_type == "refresh_token":
            grant = store.by_refresh_token(c, param("refresh_token"), "tiktok")
            if (store.refresh_problem(grant) or grant["client_id"] != client_key
                    or grant["refresh_spent_at"] is not None or not store.spend_refresh_token(c, grant)):
                return _error(400, "invalid_grant", "Refresh token is invalid or expired.")
            seen(grant["network"])
            fresh = store.renew(c, grant, access_lifetime=lifetime, new_refresh_token=True,
                                refresh_expires_at=grant["refresh_expires_at"], access_prefix="act.",
                                refresh_prefix="rft.")
            return _token_reply(c, fresh)
        return _error(400, "invalid_request", "grant_type is not supported.")


@endpoint("tiktok", "v2/oauth/revoke", tiktok_fault)
def revoke():
    client_key = param("client_key")
    with store.transaction() as c:
        if not store.client_ok(c, "tiktok", client_key, param("client_secret")):
            return _error(401, "invalid_client", "Client key or secret is incorrect.")
        grant = store.by_access_token(c, param("token"), "tiktok")
        if grant is not None and grant["client_id"] == client_key:
            store.set_lineage_state(c, grant["lineage"], "revoked")
    return reply(200, {})


@endpoint("tiktok", "v2/user/info", tiktok_fault)
def user_info():
    with store.transaction() as c:
        grant = store.by_access_token(c, bearer(), "tiktok")
        if store.access_problem(grant):
            return _api_error(401, "access_token_invalid", "The access token is invalid or not found in the request.")
        granted = set(grant["scopes"].replace(",", " ").split())
        if "user.info.basic" not in granted:
            return _api_error(401, "scope_not_authorized", "The user did not authorize the scope required for "
                                                           "completing this request.")
        wanted = [f for f in (param("fields") or "open_id,display_name").split(",") if f]
        missing = sorted({FIELD_SCOPES.get(f, "user.info.basic") for f in wanted} - granted)
        if missing:
            return _api_error(401, "scope_permission_missed", "Access token is invalid, some fields need additional "
                                                              f"scopes: {', '.join(missing)}.")
        account = store.account(c, grant["account_id"])
    user = {"open_id": account["external_id"], "union_id": account["external_id"], "avatar_url": "",
            "display_name": account["name"], "username": account["handle"].lstrip("@")}
    return reply(200, {"data": {"user": {k: v for k, v in user.items() if k in wanted}},
                       "error": {"code": "ok", "message": "", "log_id": store.new_secret("", 12)}})


def register(bp):
    route(bp, ["/www.tiktok.com/v2/auth/authorize/"], consent.authorize_view(TIKTOK), methods=("GET", "POST"),
          name="tiktok_authorize")
    route(bp, ["/open.tiktokapis.com/v2/oauth/token/"], token, methods=("POST",), name="tiktok_token")
    route(bp, ["/open.tiktokapis.com/v2/oauth/revoke/"], revoke, methods=("POST",), name="tiktok_revoke")
    route(bp, ["/open.tiktokapis.com/v2/user/info/"], user_info, name="tiktok_user_info")
