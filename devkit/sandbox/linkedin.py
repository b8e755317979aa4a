"""LinkedIn: 60-day access tokens; for apps approved for programmatic refresh
(the `approved_partner` setting of the registered app: most apps are not, and
their members consent again every 60 days), a refresh token that lives 365
days from the first consent and is NOT extended by refreshing; `introspectToken` tells a token's status; API errors
carry `serviceErrorCode` (65600 invalid, 65601 revoked)."""
import sqlalchemy as sa

from devkit.sandbox import consent, store
from devkit.sandbox.protocol import Provider, bearer, endpoint, expires_in, param, reply, route, seen

DAY = 86400
ACCESS_LIFETIME = 60 * DAY
REFRESH_LIFETIME = 365 * DAY

LINKEDIN = Provider(
    key="linkedin", title="LinkedIn", colour="#0a66c2",
    network_for=lambda scopes: "linkedin_company" if any("organization" in s for s in scopes) else "linkedin_personal",
    multi_account=frozenset({"linkedin_company"}),
    deny=lambda _r: {"error": "user_cancelled_authorize", "error_description": "The user cancelled the authorization"},
)

CODE_ERROR = {"error": "invalid_request", "error_description": (
    "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. "
    "Or authorization code expired. Or external member binding exists")}
REFRESH_ERROR = {"error": "invalid_grant", "error_description": (
    "The provided authorization grant or refresh token is invalid, expired or revoked.")}
CLIENT_ERROR = {"error": "invalid_client", "error_description": "Client authentication failed"}


def api_error(state):
    """(status, body) of an API call whose token no longer works."""
    if state == "expired":
        return 401, {"status": 401, "serviceErrorCode": 65600, "code": "EXPIRED_ACCESS_TOKEN",
                     "message": "The token used in the request has expired"}
    if state == "unknown":
        return 401, {"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
                     "message": "Invalid access token"}
    if state == "role_changed":
        return 403, {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                     "message": "Not enough permissions to access this resource"}
    return 401, {"status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN",
                 "message": "The token used in the request has been revoked by the user"}


def linkedin_fault(mode):
    if mode == "permission":
        return api_error("role_changed")
    if mode == "unexpected":
        return 400, {"status": 400, "serviceErrorCode": 0, "code": "ILLEGAL_ARGUMENT",
                     "message": "Syntax exception in path variables"}
    if mode == "429":
        return 429, {"status": 429, "serviceErrorCode": 101, "code": "TOO_MANY_REQUESTS",
                     "message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."}
    if mode == "timeout":
        return 504, {"status": 504, "message": "Gateway Timeout"}
    return 500, {"status": 500, "message": "Internal Server Error"}


def _token_reply(grant, refresh_grant=None):
    refresh_grant = refresh_grant or grant
    body = {"access_token": grant["access_token"], "expires_in": expires_in(grant["access_expires_at"]),
            "scope": ",".join(grant["scopes"].split())}
    if refresh_grant["refresh_token"]:
        body["refresh_token"] = refresh_grant["refresh_token"]
        body["refresh_token_expires_in"] = expires_in(refresh_grant["refresh_expires_at"])
    return reply(200, body)


@endpoint("linkedin", "oauth/v2/accessToken", linkedin_fault)
def access_token():
    client_id = param("client_id")
    with store.transaction() as c:
        if not store.client_ok(c, "linkedin", client_id, param("client_secret")):
            return reply(401, CLIENT_ERROR)
        lifetime = store.setting(c, ["linkedin"], "access_lifetime", ACCESS_LIFETIME)
        if param("grant_type") == "authorization_code":
            code, _why = store.redeem_code(c, "linkedin", param("code"), client_id, param("redirect_uri"))
            if code is None:
                return reply(400, CODE_ERROR)
            seen(code["network"])
            # Refresh tokens only for apps LinkedIn approved for them (programmatic refresh tokens).
            grant = store.issue(
                c, "linkedin", code["network"], client_id, code["person_id"], account_id=code["account_id"],
                scopes=code["scopes"], access_lifetime=lifetime, refresh=store.approved_partner(c),
                refresh_lifetime=store.setting(c, [code["network"], "linkedin"], "refresh_lifetime", REFRESH_LIFETIME),
                code=code["code"], access_prefix="AQV", refresh_prefix="AQX",
            )
            return _token_reply(grant)
        if param("grant_type") == "refresh_token":
            grant = store.by_refresh_token(c, param("refresh_token"), "linkedin")
            if store.refresh_problem(grant) or grant["client_id"] != client_id:
                return reply(400, REFRESH_ERROR)
            seen(grant["network"])
            # The refresh token keeps its end date: 365 days from the first consent.
            fresh = store.renew(c, grant, access_lifetime=lifetime, access_prefix="AQV")
            return _token_reply(fresh, refresh_grant=grant)
        return reply(400, {"error": "unsupported_grant_type", "error_description": "grant_type is not supported"})


@endpoint("linkedin", "oauth/v2/introspectToken", linkedin_fault)
def introspect_token():
    client_id = param("client_id")
    with store.transaction() as c:
        if not store.client_ok(c, "linkedin", client_id, param("client_secret")):
            return reply(401, CLIENT_ERROR)
        value = param("token")
        grant = store.by_access_token(c, value, "linkedin")
        refresh = grant is None
        if refresh:
            grant = store.by_refresh_token(c, value, "linkedin")
        if grant is None or grant["client_id"] != client_id:
            return reply(200, {"active": False})
        seen(grant["network"])
        problem = store.refresh_problem(grant) if refresh else store.access_problem(grant)
        status = "active" if not problem else ("expired" if problem == "expired" else "revoked")
        ends = grant["refresh_expires_at"] if refresh else grant["access_expires_at"]
    return reply(200, {
        "active": status == "active", "client_id": client_id, "authorized_at": int(grant["consented_at"]),
        "created_at": int(grant["issued_at"]), "status": status, "expires_at": int(ends) if ends else None,
        "scope": ",".join(grant["scopes"].split()), "auth_type": "3L",
    })


def _authenticated(c):
    grant = store.by_access_token(c, bearer(), "linkedin")
    if grant is not None:
        seen(grant["network"])
    problem = store.access_problem(grant)
    if problem:
        status, body = api_error(problem)
        return None, reply(status, body)
    return grant, None


def _member(c, grant):
    """(id, name) of the member a token speaks for."""
    person = store.person(c, grant["person_id"])
    if grant["account_id"]:
        account = store.account(c, grant["account_id"])
        return account["external_id"], account["name"], person
    return person["external_id"], person["name"], person


@endpoint("linkedin", "v2/userinfo", linkedin_fault)
def userinfo():
    with store.transaction() as c:
        grant, problem = _authenticated(c)
        if problem:
            return problem
        member_id, name, person = _member(c, grant)
    given, _sep, family = name.partition(" ")
    return reply(200, {"sub": member_id, "name": name, "given_name": given, "family_name": family,
                       "email": person["email"], "email_verified": True, "locale": {"country": "US", "language": "en"}})


@endpoint("linkedin", "v2/me", linkedin_fault)
def me():
    with store.transaction() as c:
        grant, problem = _authenticated(c)
        if problem:
            return problem
        member_id, name, _person = _member(c, grant)
    given, _sep, family = name.partition(" ")
    return reply(200, {"id": member_id, "localizedFirstName": given, "localizedLastName": family})


@endpoint("linkedin", "v2/organizationAcls", linkedin_fault)
def organization_acls():
    if param("q") != "roleAssignee":
        return reply(400, {"status": 400, "serviceErrorCode": 100, "code": "ILLEGAL_ARGUMENT",
                           "message": "Only q=roleAssignee is supported"})
    with store.transaction() as c:
        grant, problem = _authenticated(c)
        if problem:
            return problem
        person = store.person(c, grant["person_id"])
        held = store.accounts_of(c, grant["person_id"], "linkedin_company")
    wanted_role, wanted_state = param("role"), param("state")
    decorate = "organization~" in (param("projection") or "")
    elements = []
    for account in held:
        if wanted_role and account["role"] != wanted_role:
            continue
        if wanted_state and wanted_state != "APPROVED":
            continue
        element = {"roleAssignee": f"urn:li:person:{person['external_id']}", "state": "APPROVED",
                   "role": account["role"], "organization": f"urn:li:organization:{account['external_id']}"}
        if decorate:
            element["organization~"] = {"localizedName": account["name"], "vanityName": account["handle"].lstrip("@")}
        elements.append(element)
    return reply(200, {"paging": {"count": 10, "start": 0, "total": len(elements), "links": []},
                       "elements": elements})


@endpoint("linkedin", "v2/organizations", linkedin_fault)
def organization(organization_id):
    with store.transaction() as c:
        grant, problem = _authenticated(c)
        if problem:
            return problem
        account = store.one(c, sa.select(store.accounts).where(
            store.accounts.c.network == "linkedin_company", store.accounts.c.external_id == organization_id))
        if account is None or store.role_of(c, grant["person_id"], account["id"]) is None:
            status, body = api_error("role_changed")
            return reply(status, body)
    number = int(organization_id) if organization_id.isdigit() else organization_id
    return reply(200, {"id": number, "localizedName": account["name"], "vanityName": account["handle"].lstrip("@")})


def register(bp):
    www, api = "/www.linkedin.com/oauth/v2", "/api.linkedin.com"
    route(bp, [f"{www}/authorization"], consent.authorize_view(LINKEDIN), methods=("GET", "POST"),
          name="linkedin_authorize")
    route(bp, [f"{www}/accessToken"], access_token, methods=("POST",), name="linkedin_access_token")
    route(bp, [f"{www}/introspectToken"], introspect_token, methods=("POST",), name="linkedin_introspect")
    route(bp, [f"{api}/v2/userinfo"], userinfo, name="linkedin_userinfo")
    route(bp, [f"{api}/v2/me"], me, name="linkedin_me")
    route(bp, [f"{api}/v2/organizationAcls", f"{api}/rest/organizationAcls"], organization_acls,
          name="linkedin_organization_acls")
    route(bp, [f"{api}/v2/organizations/<organization_id>", f"{api}/rest/organizations/<organization_id>"],
          organization, name="linkedin_organization")
