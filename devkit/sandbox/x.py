"""X (Twitter) OAuth 2.0: PKCE S256 required, confidential clients
authenticate with HTTP Basic, access tokens live 2 hours, refresh tokens
(scope `offline.access`) are single-use and rotate; replaying a spent one
revokes the whole grant."""
from devkit.sandbox import consent, store
from devkit.sandbox.protocol import Provider, basic_auth, bearer, endpoint, expires_in, param, reply, route, seen

ACCESS_LIFETIME = 2 * 3600

X = Provider(key="x", title="X", colour="#000000", network_for=lambda scopes: "x", pkce="required")

INVALID_TOKEN = {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}
UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
FORBIDDEN = {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"}
USERS_ME_SCOPES = {"users.read", "tweet.read"}  # users/me needs both


def x_fault(mode):
    if mode == "permission":
        return 403, {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"}
    if mode == "unexpected":
        return 400, {"title": "Invalid Request", "type": "https://api.twitter.com/2/problems/invalid-request",
                     "detail": "One or more parameters to your request was invalid.",
                     "errors": [{"message": "The query parameters are invalid."}]}
    if mode == "429":
        return 429, {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
                     "status": 429}
    if mode == "timeout":
        return 504, {"title": "Gateway Timeout", "type": "about:blank", "status": 504, "detail": "Gateway Timeout"}
    return 500, {"title": "Internal Server Error", "type": "about:blank", "status": 500,
                 "detail": "Internal Server Error"}


def _client(c):
    """The authenticated client id, or None (X wants HTTP Basic from confidential clients)."""
    client_id, secret = basic_auth()
    if client_id is None or not store.client_ok(c, "x", client_id, secret):
        return None
    return client_id


def _token_reply(grant):
    body = {"token_type": "bearer", "expires_in": expires_in(grant["access_expires_at"]),
            "access_token": grant["access_token"], "scope": grant["scopes"]}
    if grant["refresh_token"]:
        body["refresh_token"] = grant["refresh_token"]
    return reply(200, body)


@endpoint("x", "oauth2/token", x_fault)
def token():
    with store.transaction() as c:
        client_id = _client(c)
        if client_id is None:
            return reply(401, {"error": "unauthorized_client", "error_description": "Missing valid authorization header"})
        grant_type = param("grant_type")
        if grant_type == "authorization_code":
            return _exchange(c, client_id)
        if grant_type == "refresh_token":
            return _refresh(c, client_id)
        return reply(400, {"error": "invalid_request", "error_description": "Value passed for the grant_type parameter was invalid."})


def _exchange(c, client_id):
    if not param("code_verifier"):
        return reply(400, {"error": "invalid_request", "error_description": "Missing required parameter [code_verifier]."})
    code, why = store.redeem_code(c, "x", param("code"), client_id, param("redirect_uri"),
                                  param("code_verifier"), require_pkce=True)
    if code is None:
        return reply(400, INVALID_TOKEN)
    grant = store.issue(
        c, "x", "x", client_id, code["person_id"], account_id=code["account_id"], scopes=code["scopes"],
        access_lifetime=store.setting(c, ["x"], "access_lifetime", ACCESS_LIFETIME),
        refresh="offline.access" in code["scopes"].split(),
        refresh_lifetime=store.setting(c, ["x"], "refresh_lifetime", None), code=code["code"],
    )
    return _token_reply(grant)


def _refresh(c, client_id):
    grant = store.by_refresh_token(c, param("refresh_token"), "x")
    if grant is None or grant["client_id"] != client_id:
        return reply(400, INVALID_TOKEN)
    seen(grant["network"])
    if grant["refresh_spent_at"] is not None:
        store.set_lineage_state(c, grant["lineage"], "revoked")  # a replayed token kills the grant
        return reply(400, INVALID_TOKEN)
    if store.refresh_problem(grant) or not store.spend_refresh_token(c, grant):
        return reply(400, INVALID_TOKEN)
    fresh = store.renew(
        c, grant, access_lifetime=store.setting(c, ["x"], "access_lifetime", ACCESS_LIFETIME),
        new_refresh_token=True, refresh_expires_at=grant["refresh_expires_at"],
    )
    return _token_reply(fresh)


@endpoint("x", "oauth2/revoke", x_fault)
def revoke():
    with store.transaction() as c:
        client_id = _client(c)
        if client_id is None:
            return reply(401, {"error": "unauthorized_client", "error_description": "Missing valid authorization header"})
        value = param("token")
        grant = store.by_access_token(c, value, "x") or store.by_refresh_token(c, value, "x")
        if grant is not None and grant["client_id"] == client_id:
            store.set_lineage_state(c, grant["lineage"], "revoked")
    return reply(200, {"revoked": True})


@endpoint("x", "users/me", x_fault)
def users_me():
    with store.transaction() as c:
        grant = store.by_access_token(c, bearer(), "x")
        if store.access_problem(grant):
            return reply(401, UNAUTHORIZED)
        if not USERS_ME_SCOPES <= set(grant["scopes"].split()):
            return reply(403, FORBIDDEN)
        account = store.account(c, grant["account_id"])
    return reply(200, {"data": {"id": account["external_id"], "name": account["name"],
                                "username": account["handle"].lstrip("@")}})


def register(bp):
    route(bp, ["/x.com/i/oauth2/authorize", "/twitter.com/i/oauth2/authorize"], consent.authorize_view(X),
          methods=("GET", "POST"), name="x_authorize")
    route(bp, ["/api.x.com/2/oauth2/token", "/api.twitter.com/2/oauth2/token"], token, methods=("POST",),
          name="x_token")
    route(bp, ["/api.x.com/2/oauth2/revoke", "/api.twitter.com/2/oauth2/revoke"], revoke, methods=("POST",),
          name="x_revoke")
    route(bp, ["/api.x.com/2/users/me", "/api.twitter.com/2/users/me"], users_me, name="x_users_me")
