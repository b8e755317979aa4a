"""Pinterest API v5: clients authenticate with HTTP Basic; access tokens live
30 days; "continuous" refresh tokens live 60 days and every refresh returns
a new one with a fresh 60 days; failures answer
`{"code": 2, "message": "Authentication failed."}`."""
from devkit.sandbox import consent, store
from devkit.sandbox.protocol import Provider, basic_auth, bearer, endpoint, expires_in, param, reply, route, seen

DAY = 86400
ACCESS_LIFETIME = 30 * DAY
REFRESH_LIFETIME = 60 * DAY

PINTEREST = Provider(key="pinterest", title="Pinterest", colour="#e60023", network_for=lambda scopes: "pinterest")

AUTHENTICATION_FAILED = {"code": 2, "message": "Authentication failed."}


def pinterest_fault(mode):
    if mode == "permission":
        return 403, {"code": 29, "message": "You are not permitted to access that resource."}
    if mode == "unexpected":
        return 400, {"code": 1, "message": "Invalid parameters."}
    if mode == "429":
        return 429, {"code": 8, "message": "You have exceeded your rate limit. Try again later."}
    if mode == "timeout":
        return 504, {"code": 3, "message": "Gateway time-out."}
    return 500, {"code": 3, "message": "Something went wrong on our end. Sorry about that."}


def _token_reply(grant, response_type):
    return reply(200, {
        "access_token": grant["access_token"], "refresh_token": grant["refresh_token"],
        "response_type": response_type, "token_type": "bearer",
        "expires_in": expires_in(grant["access_expires_at"]),
        "refresh_token_expires_in": expires_in(grant["refresh_expires_at"]),
        "refresh_token_expires_at": int(grant["refresh_expires_at"]) if grant["refresh_expires_at"] else None,
        "scope": " ".join(grant["scopes"].replace(",", " ").split()),
    })


@endpoint("pinterest", "v5/oauth/token", pinterest_fault)
def token():
    client_id, secret = basic_auth()
    with store.transaction() as c:
        if client_id is None or not store.client_ok(c, "pinterest", client_id, secret):
            return reply(401, AUTHENTICATION_FAILED)
        lifetime = store.setting(c, ["pinterest"], "access_lifetime", ACCESS_LIFETIME)
        refresh_lifetime = store.setting(c, ["pinterest"], "refresh_lifetime", REFRESH_LIFETIME)
        grant_type = param("grant_type")
        if grant_type == "authorization_code":
            code, _why = store.redeem_code(c, "pinterest", param("code"), client_id, param("redirect_uri"))
            if code is None:
                return reply(401, AUTHENTICATION_FAILED)
            grant = store.issue(
                c, "pinterest", "pinterest", client_id, code["person_id"], account_id=code["account_id"],
                scopes=code["scopes"], access_lifetime=lifetime, refresh=True, refresh_lifetime=refresh_lifetime,
                code=code["code"], access_prefix="pina_", refresh_prefix="pinr_",
            )
            return _token_reply(grant, "authorization_code")
        if grant_type == "refresh_token":
            grant = store.by_refresh_token(c, param("refresh_token"), "pinterest")
            if store.refresh_problem(grant) or grant["client_id"] != client_id:
                return reply(401, AUTHENTICATION_FAILED)
            seen(grant["network"])
            # Continuous refresh: a new refresh token with a fresh 60 days each time.
            fresh = store.renew(c, grant, access_lifetime=lifetime, new_refresh_token=True,
                                refresh_expires_at=store.now() + refresh_lifetime, access_prefix="pina_",
                                refresh_prefix="pinr_")
            return _token_reply(fresh, "refresh_token")
        if grant_type == "client_credentials":
            # Not available to this app: an error, but not an authentication failure.
            return reply(403, {"code": 29, "message": "You are not permitted to access that resource."})
        return reply(400, {"code": 1, "message": "Invalid request parameters: grant_type"})


@endpoint("pinterest", "v5/user_account", pinterest_fault)
def user_account():
    with store.transaction() as c:
        grant = store.by_access_token(c, bearer(), "pinterest")
        if store.access_problem(grant):
            return reply(401, AUTHENTICATION_FAILED)
        account = store.account(c, grant["account_id"])
    return reply(200, {"account_type": "BUSINESS", "id": account["external_id"],
                       "username": account["handle"].lstrip("@"), "business_name": account["name"],
                       "profile_image": "", "website_url": ""})


def register(bp):
    route(bp, ["/www.pinterest.com/oauth/"], consent.authorize_view(PINTEREST), methods=("GET", "POST"),
          name="pinterest_authorize")
    route(bp, ["/api.pinterest.com/v5/oauth/token"], token, methods=("POST",), name="pinterest_token")
    route(bp, ["/api.pinterest.com/v5/user_account"], user_account, name="pinterest_user_account")
