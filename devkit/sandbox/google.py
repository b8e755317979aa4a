"""Google (YouTube, Business Profile): 1-hour access tokens; a refresh token
only with `access_type=offline`, and after the first consent only again
with `prompt=consent`; refreshing returns no new refresh token; a dead one
answers `invalid_grant` "Token has been expired or revoked."; PKCE optional."""
import sqlalchemy as sa

from devkit.sandbox import consent, store
from devkit.sandbox.protocol import Provider, basic_auth, bearer, endpoint, expires_in, param, reply, route, seen

ACCESS_LIFETIME = 3599

GOOGLE = Provider(
    key="google", title="Google", colour="#4285f4",
    network_for=lambda scopes: "google_business" if any(s.endswith("/business.manage") for s in scopes) else "youtube",
    # YouTube: the person picks the channel (their own, or a brand account's) that signs in.
    multi_account=frozenset({"google_business"}), pkce="optional",
    code_params=lambda req, code: {"code": code, "scope": " ".join(req["scopes"])}, code_prefix="4/",
)

EXPIRED_OR_REVOKED = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
UNAUTHENTICATED = {"error": {"code": 401, "message": (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid "
    "authentication credential."), "status": "UNAUTHENTICATED"}}
PERMISSION_DENIED = {"error": {"code": 403, "message": "The caller does not have permission",
                               "status": "PERMISSION_DENIED"}}


def google_fault(mode):
    if mode == "permission":
        return 403, {"error": {"code": 403, "message": "Request had insufficient authentication scopes.",
                               "status": "PERMISSION_DENIED",
                               "errors": [{"message": "Insufficient Permission", "domain": "global",
                                           "reason": "insufficientPermissions"}],
                               "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                            "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}}
    if mode == "unexpected":
        return 400, {"error": {"code": 400, "message": "Request contains an invalid argument.",
                               "status": "INVALID_ARGUMENT"}}
    if mode == "429":
        return 429, {"error": {"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}}
    if mode == "timeout":
        return 504, {"error": {"code": 504, "message": "Deadline exceeded.", "status": "DEADLINE_EXCEEDED"}}
    return 500, {"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}}


def _client(c):
    client_id, secret = basic_auth()
    if client_id is None:
        client_id, secret = param("client_id"), param("client_secret")
    return client_id if store.client_ok(c, "google", client_id, secret) else None


def _token_reply(grant, with_refresh):
    body = {"access_token": grant["access_token"], "expires_in": expires_in(grant["access_expires_at"]),
            "scope": grant["scopes"], "token_type": "Bearer"}
    if with_refresh and grant["refresh_token"]:
        body["refresh_token"] = grant["refresh_token"]
        if grant["refresh_expires_at"] is not None:
            body["refresh_token_expires_in"] = expires_in(grant["refresh_expires_at"])
    return reply(200, body)


@endpoint("google", "token", google_fault)
def token():
    with store.transaction() as c:
        client_id = _client(c)
        if client_id is None:
            return reply(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        lifetime = store.setting(c, ["google"], "access_lifetime", ACCESS_LIFETIME)
        grant_type = param("grant_type")
        if grant_type == "authorization_code":
            code, why = store.redeem_code(c, "google", param("code"), client_id, param("redirect_uri"),
                                          param("code_verifier"))
            if code is None:
                if why == "redirect_uri":
                    return reply(400, {"error": "redirect_uri_mismatch", "error_description": "Bad Request"})
                if why == "pkce":
                    return reply(400, {"error": "invalid_grant", "error_description": "Invalid code verifier."})
                return reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            seen(code["network"])
            refresh = code["offline"] and (code["prompt_consent"] or not _consented_before(c, code))
            grant = store.issue(
                c, "google", code["network"], client_id, code["person_id"], account_id=code["account_id"],
                scopes=code["scopes"],
                access_lifetime=lifetime, refresh=refresh,
                refresh_lifetime=store.setting(c, [code["network"], "google"], "refresh_lifetime", None),
                code=code["code"], access_prefix="ya29.", refresh_prefix="1//",
            )
            return _token_reply(grant, with_refresh=True)
        if grant_type == "refresh_token":
            grant = store.by_refresh_token(c, param("refresh_token"), "google")
            if store.refresh_problem(grant) or grant["client_id"] != client_id:
                return reply(400, EXPIRED_OR_REVOKED)
            seen(grant["network"])
            return _token_reply(store.renew(c, grant, access_lifetime=lifetime, access_prefix="ya29."),
                                with_refresh=False)
        return reply(400, {"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant_type}"})


def _consented_before(c, code):
    """Has this person already given this client offline access (a refresh token)?"""
    return store.one(c, sa.select(store.grants.c.id).where(
        store.grants.c.provider == "google", store.grants.c.person_id == code["person_id"],
        store.grants.c.client_id == code["client_id"], store.grants.c.refresh_token.is_not(None))) is not None


@endpoint("google", "tokeninfo", google_fault)
def tokeninfo():
    with store.transaction() as c:
        grant = store.by_access_token(c, param("access_token"), "google")
        if store.access_problem(grant):
            return reply(400, {"error": "invalid_token", "error_description": "Invalid Value"})
        seen(grant["network"])
        person = store.person(c, grant["person_id"])
        offline = _offline(c, grant)
    return reply(200, {
        "azp": grant["client_id"], "aud": grant["client_id"], "sub": person["external_id"], "scope": grant["scopes"],
        "exp": str(int(grant["access_expires_at"])), "expires_in": str(expires_in(grant["access_expires_at"])),
        "email": person["email"], "email_verified": "true", "access_type": "offline" if offline else "online",
    })


def _offline(c, grant):
    return grant["refresh_token"] is not None or store.one(c, sa.select(store.grants.c.id).where(
        store.grants.c.lineage == grant["lineage"], store.grants.c.refresh_token.is_not(None))) is not None


@endpoint("google", "revoke", google_fault)
def revoke():
    with store.transaction() as c:
        value = param("token")
        grant = store.by_access_token(c, value, "google") or store.by_refresh_token(c, value, "google")
        if grant is None or grant["state"] != store.ACTIVE:
            return reply(400, {"error": "invalid_token", "error_description": "Token expired or revoked"})
        seen(grant["network"])
        store.set_lineage_state(c, grant["lineage"], "revoked")
    return reply(200, {})


def _authenticated(c):
    grant = store.by_access_token(c, bearer(), "google")
    if grant is not None:
        seen(grant["network"])
    if store.access_problem(grant):
        return None, reply(401, UNAUTHENTICATED)
    return grant, None


@endpoint("google", "userinfo", google_fault)
def userinfo():
    with store.transaction() as c:
        grant, problem = _authenticated(c)
        if problem:
            return problem
        person = store.person(c, grant["person_id"])
    return reply(200, {"sub": person["external_id"], "name": person["name"], "email": person["email"],
                       "email_verified": True})


@endpoint("google", "youtube/v3/channels", google_fault)
def channels():
    if param("mine") != "true":
        return reply(400, {"error": {"code": 400, "message": "Only mine=true is supported here.",
                                     "status": "INVALID_ARGUMENT"}})
    with store.transaction() as c:
        grant, problem = _authenticated(c)
        if problem:
            return problem
        held = [account for account in store.accounts_of(c, grant["person_id"], "youtube")
                if grant["account_id"] in (None, account["id"])]  # the channel chosen at consent
    items = [{"kind": "youtube#channel", "etag": account["external_id"], "id": account["external_id"],
              "snippet": {"title": account["name"], "customUrl": account["handle"], "description": ""}}
             for account in held]
    return reply(200, {"kind": "youtube#channelListResponse", "etag": "sandbox",
                       "pageInfo": {"totalResults": len(items), "resultsPerPage": 5}, "items": items})


@endpoint("google", "v1/accounts", google_fault)
def business_accounts():
    with store.transaction() as c:
        grant, problem = _authenticated(c)
        if problem:
            return problem
        held = store.accounts_of(c, grant["person_id"], "google_business")
    # One business account (a location group) per location in the sandbox.
    return reply(200, {"accounts": [
        {"name": f"accounts/{a['external_id']}", "accountName": a["name"], "type": "LOCATION_GROUP",
         "role": a["role"], "verificationState": "VERIFIED", "vettedState": "NOT_VETTED"} for a in held]})


@endpoint("google", "v1/locations", google_fault)
def business_locations(account_id):
    with store.transaction() as c:
        grant, problem = _authenticated(c)
        if problem:
            return problem
        held = [a for a in store.accounts_of(c, grant["person_id"], "google_business")
                if a["external_id"] == account_id]
    if not held:
        return reply(403, PERMISSION_DENIED)
    return reply(200, {"locations": [{"name": f"locations/{a['external_id']}", "title": a["name"]} for a in held]})


def register(bp):
    route(bp, ["/accounts.google.com/o/oauth2/v2/auth", "/accounts.google.com/o/oauth2/auth"],
          consent.authorize_view(GOOGLE), methods=("GET", "POST"), name="google_authorize")
    route(bp, ["/oauth2.googleapis.com/token", "/www.googleapis.com/oauth2/v4/token"], token, methods=("POST",),
          name="google_token")
    route(bp, ["/oauth2.googleapis.com/tokeninfo", "/www.googleapis.com/oauth2/v3/tokeninfo"], tokeninfo,
          methods=("GET", "POST"), name="google_tokeninfo")
    route(bp, ["/oauth2.googleapis.com/revoke"], revoke, methods=("POST",), name="google_revoke")
    route(bp, ["/www.googleapis.com/oauth2/v3/userinfo", "/openidconnect.googleapis.com/v1/userinfo"], userinfo,
          name="google_userinfo")
    route(bp, ["/www.googleapis.com/youtube/v3/channels", "/youtube.googleapis.com/youtube/v3/channels"], channels,
          name="google_channels")
    route(bp, ["/mybusinessaccountmanagement.googleapis.com/v1/accounts"], business_accounts,
          name="google_business_accounts")
    route(bp, ["/mybusinessbusinessinformation.googleapis.com/v1/accounts/<account_id>/locations",
               "/mybusinessaccountmanagement.googleapis.com/v1/accounts/<account_id>/locations"],
          business_locations, name="google_business_locations")
