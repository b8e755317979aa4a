"""Meta's networks: Facebook Login for Pages (and Instagram business accounts
through their Pages) on the Graph API, Instagram Login, and Threads.

Facebook: the code gives a short-lived user token (1 h); `fb_exchange_token`
gives a long-lived one (60 days) while the token is still valid; `me/accounts`
gives Page tokens, with no expiry when derived from a long-lived user token.
Instagram Login and Threads: the code gives a 1 h token, `*_exchange_token` a
60-day one, and `*_refresh_token` a fresh 60-day one once the token is at
least 24 hours old and not expired.
"""
import base64
import hashlib
import hmac
import secrets
from datetime import date, datetime, timezone
from functools import wraps
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import request

from devkit.sandbox import consent, store
from devkit.sandbox.protocol import Provider, bearer, endpoint, expires_in, param, reply, route, seen

HOUR = 3600
DAY = 86400
SHORT_LIFETIME = HOUR
LONG_LIFETIME = 60 * DAY
DATA_ACCESS_LIFETIME = 90 * DAY
REFRESH_MIN_AGE = DAY

# The last day Meta keeps each Graph API version (its changelog); the sandbox
# refuses a version past it, stricter than Meta (which serves the next oldest
# version instead), so that an ended version shows in development.
GRAPH_VERSION_ENDS = {
    "v17.0": date(2025, 9, 12), "v18.0": date(2026, 1, 26), "v19.0": date(2026, 5, 21),
    "v20.0": date(2026, 9, 24), "v21.0": date(2027, 1, 21), "v22.0": date(2027, 5, 20),
    "v23.0": date(2027, 10, 8), "v24.0": date(2028, 2, 18), "v25.0": date(2028, 7, 29),
}
LATEST_GRAPH_VERSION = "v26.0"

PAGE_TASKS = {
    "ADMIN": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"],
    "EDITOR": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE"],
    "MODERATOR": ["ADVERTISE", "ANALYZE", "MESSAGING", "MODERATE"],
    "ADVERTISER": ["ADVERTISE", "ANALYZE"],
    "ANALYST": ["ANALYZE"],
}


def _denied(_request):
    return {"error": "access_denied", "error_code": "200", "error_description": "Permissions error",
            "error_reason": "user_denied"}


FACEBOOK = Provider(
    key="facebook", title="Facebook", colour="#1877f2",
    network_for=lambda scopes: "instagram_business" if any(s.startswith("instagram_") for s in scopes) else "facebook",
    multi_account=frozenset({"facebook", "instagram_business"}), deny=_denied, default_role="ADMIN",
)
INSTAGRAM = Provider(
    key="instagram", title="Instagram", colour="#c13584", network_for=lambda scopes: "instagram",
    deny=lambda _r: {"error": "access_denied", "error_reason": "user_denied",
                     "error_description": "The user denied your request."},
)
THREADS = Provider(
    key="threads", title="Threads", colour="#101010", network_for=lambda scopes: "threads",
    deny=lambda _r: {"error": "access_denied", "error_reason": "user_denied",
                     "error_description": "The user denied your request."},
)


# ---------------------------------------------------------------- errors


def _stamp(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%A, %d-%b-%y %H:%M:%S UTC")


def error(message, code, subcode=None, status=400, kind="OAuthException", **extra):
    body = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        body["error_subcode"] = subcode
    body.update(extra)
    body["fbtrace_id"] = store.new_secret("A", 12)
    return reply(status, {"error": body})


def state_error(state, grant=None):
    """(code, subcode, message) of a token that no longer works."""
    if state == "expired":
        ended = (grant or {}).get("access_expires_at") or store.now()
        return 190, 463, (f"Error validating access token: Session has expired on {_stamp(ended)}. "
                          f"The current time is {_stamp(store.now())}.")
    return {
        "password_changed": (190, 460, "Error validating access token: The session has been invalidated because "
                                       "the user changed their password or Facebook has changed the session for "
                                       "security reasons."),
        "app_removed": (190, 458, "Error validating access token: The user has not authorized application "
                                  f"{(grant or {}).get('client_id', '')}."),
        "checkpoint": (190, 459, "Error validating access token: You cannot access the app till you log in to "
                                 "www.facebook.com and follow the instructions given."),
        "revoked": (190, 467, "Error validating access token: The session is invalid because the user logged out."),
        "role_changed": (190, 492, "(#190) The user must be an administrator, editor, or moderator of the page in "
                                   "order to impersonate it."),
    }.get(state, (190, None, "Invalid OAuth access token - Cannot parse access token"))


def token_error(state, grant=None):
    code, subcode, message = state_error(state, grant)
    return error(message, code, subcode)


def meta_fault(mode):
    if mode == "permission":
        return 403, {"error": {"message": "(#200) Requires pages_read_engagement permission to manage the object",
                               "type": "OAuthException", "code": 200, "fbtrace_id": store.new_secret("A", 12)}}
    if mode == "unexpected":
        return 400, {"error": {"message": "(#803) Some of the aliases you requested do not exist: keepalive",
                               "type": "OAuthException", "code": 803, "fbtrace_id": store.new_secret("A", 12)}}
    if mode == "429":
        return 429, {"error": {"message": "(#4) Application request limit reached", "type": "OAuthException",
                               "is_transient": True, "code": 4, "fbtrace_id": store.new_secret("A", 12)}}
    if mode == "timeout":
        return 504, {"error": {"message": "An unexpected error has occurred. Please retry your request later.",
                               "type": "OAuthException", "is_transient": True, "code": 2}}
    return 500, {"error": {"message": "An unexpected error has occurred. Please retry your request later.",
                           "type": "OAuthException", "is_transient": True, "code": 2,
                           "fbtrace_id": store.new_secret("A", 12)}}


CODE_ERRORS = {
    "unknown": ("Invalid verification code format.", 100, None),
    "client": ("Invalid verification code format.", 100, None),
    "used": ("This authorization code has been used.", 100, 36009),
    "expired": ("This authorization code has expired.", 100, 36007),
    "redirect_uri": ("Error validating verification code. Please make sure your redirect_uri is identical to the "
                     "one you used in the OAuth dialog request", 100, 36008),
}


def _client_problem(c, provider, client_id, secret):
    if not store.client_ok(c, provider, client_id, check_secret=False):
        return error("Error validating application. Invalid application ID.", 101)
    if not store.client_ok(c, provider, client_id, secret):
        return error("Error validating client secret.", 1)
    return None


def _token_reply(grant, **extra):
    body = {"access_token": grant["access_token"], "token_type": "bearer"}
    if grant["access_expires_at"] is not None:
        body["expires_in"] = expires_in(grant["access_expires_at"])
    body.update(extra)
    return reply(200, body)


def _lifetime(c, grant_or_network, name, default):
    network = grant_or_network if isinstance(grant_or_network, str) else grant_or_network["network"]
    provider = {"facebook": "facebook", "instagram_business": "facebook"}.get(network, network)
    return store.setting(c, [network, provider], name, default)


def fields():
    """The top-level names of a Graph `fields` parameter (nested `{...}` ignored)."""
    raw = param("fields") or ""
    depth, names, current = 0, [], ""
    for char in raw:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            names.append(current.strip())
            current = ""
        elif depth == 0:
            current += char
    names.append(current.strip())
    return [n.split(".")[0] for n in names if n]


# ---------------------------------------------------------------- Facebook Graph


def version_checked(view):
    """Refuse a Graph API version past its end."""

    @wraps(view)
    def checked(*args, **path):
        ends = GRAPH_VERSION_ENDS.get(path.get("version") or "")
        if ends is not None and ends < datetime.fromtimestamp(store.now(), timezone.utc).date():
            return error(f"(#2635) You are calling a deprecated version of the Graph API ({path['version']}). "
                         f"Please update to the latest version: {LATEST_GRAPH_VERSION}.", 2635)
        return view(*args, **path)

    return checked


def proof_problem(c, client_id, token):
    """The error of a wrong appsecret_proof, when the call sent one (Meta
    checks it against the app's secret, https://developers.facebook.com/docs/graph-api/guides/secure-requests)."""
    proof = param("appsecret_proof")
    registered = store.client(c, "facebook", client_id)
    if proof is None or registered is None:
        return None
    expected = hmac.new(registered["client_secret"].encode(), (token or "").encode(), hashlib.sha256).hexdigest()
    if secrets.compare_digest(proof, expected):
        return None
    return error("Invalid appsecret_proof provided in the API argument", 100, kind="GraphMethodException")


@endpoint("facebook", "oauth/access_token", meta_fault)
@version_checked
def graph_access_token(**_path):
    client_id = param("client_id")
    secret = param("client_secret")
    with store.transaction() as c:
        grant_type = param("grant_type") or ("authorization_code" if param("code") else None)
        seen(None, grant_type)
        if grant_type == "client_credentials":
            problem = _client_problem(c, "facebook", client_id, secret)
            return problem or reply(200, {"access_token": f"{client_id}|{secret}", "token_type": "bearer"})
        if grant_type == "fb_exchange_token":
            problem = _client_problem(c, "facebook", client_id, secret)
            if problem:
                return problem
            return _fb_exchange(c, client_id, param("fb_exchange_token"))
        if grant_type != "authorization_code":
            return error("Missing authorization code", 100)
        problem = _client_problem(c, "facebook", client_id, secret)
        if problem:
            return problem
        code, why = store.redeem_code(c, "facebook", param("code"), client_id, param("redirect_uri"))
        if code is None:
            message, number, subcode = CODE_ERRORS.get(why, CODE_ERRORS["unknown"])
            return error(message, number, subcode)
        seen(code["network"])
        moment = store.now()
        grant = store.issue(
            c, "facebook", code["network"], client_id, code["person_id"], kind="user", scopes=code["scopes"],
            access_lifetime=_lifetime(c, code["network"], "short_lifetime", SHORT_LIFETIME),
            data_access_expires_at=moment + _lifetime(c, code["network"], "data_access_lifetime",
                                                      DATA_ACCESS_LIFETIME),
            code=code["code"], access_prefix="EAA",
        )
        return _token_reply(grant)


def _fb_exchange(c, client_id, token):
    grant = store.by_access_token(c, token, "facebook")
    if grant is not None:
        seen(grant["network"])
    if grant is None or grant["kind"] not in ("user", "long") or grant["client_id"] != client_id:
        return token_error("unknown")
    problem = store.access_problem(grant)
    if problem:
        return token_error(problem, grant)
    fresh = store.issue(
        c, "facebook", grant["network"], client_id, grant["person_id"], kind="long", scopes=grant["scopes"],
        access_lifetime=_lifetime(c, grant, "access_lifetime", LONG_LIFETIME),
        data_access_expires_at=grant["data_access_expires_at"], lineage=grant["lineage"], rotated_from=grant["id"],
        code=grant["code"], consented_at=grant["consented_at"], access_prefix="EAA",
    )
    return _token_reply(fresh)


def _authenticated(c, provider="facebook"):
    """(grant, None) for a working token of the call, else (None, error response)."""
    grant = store.by_access_token(c, bearer(), provider)
    if grant is not None:
        seen(grant["network"])
    problem = store.access_problem(grant)
    if problem:
        return None, token_error(problem, grant)
    wrong_proof = proof_problem(c, grant["client_id"], bearer()) if provider == "facebook" else None
    if wrong_proof:
        return None, wrong_proof
    return grant, None


def _page_token(c, user_grant, page):
    """The Page token a user token gives for `page` (one per user token and Page)."""
    existing = store.one(c, sa.select(store.grants).where(
        store.grants.c.rotated_from == user_grant["id"], store.grants.c.account_id == page["id"],
        store.grants.c.kind == "page"))
    if existing is not None:
        return existing
    # Derived from a long-lived user token, a Page token does not expire.
    lifetime = None
    if user_grant["kind"] == "user" and user_grant["access_expires_at"] is not None:
        lifetime = user_grant["access_expires_at"] - store.now()
    return store.issue(
        c, "facebook", "facebook", user_grant["client_id"], user_grant["person_id"], kind="page",
        account_id=page["id"], scopes=user_grant["scopes"], access_lifetime=lifetime,
        data_access_expires_at=user_grant["data_access_expires_at"], lineage=user_grant["lineage"],
        rotated_from=user_grant["id"], code=user_grant["code"], consented_at=user_grant["consented_at"],
        access_prefix="EAAP",
    )


def _instagram_of(c, page_id):
    return store.one(c, sa.select(store.accounts).where(
        store.accounts.c.network == "instagram_business", store.accounts.c.linked_id == page_id))


def _ig_node(account):
    return {"id": account["external_id"], "username": account["handle"].lstrip("@"), "name": account["name"]}


@endpoint("facebook", "me/accounts", meta_fault)
@version_checked
def graph_me_accounts(**_path):
    with store.transaction() as c:
        grant, problem = _authenticated(c)
        if problem:
            return problem
        if grant["kind"] == "page":
            return error("(#100) Tried accessing nonexisting field (accounts) on node type (Page)", 100)
        asked = set(fields())
        held = store.accounts_of(c, grant["person_id"], "facebook")
        start, limit = _cursor(param("after")), _limit(param("limit"))
        data = []
        for page in held[start:start + limit]:
            token = _page_token(c, grant, page)
            entry = {
                "access_token": token["access_token"],
                "category": "Local business",
                "category_list": [{"id": "2500", "name": "Local business"}],
                "name": page["name"],
                "id": page["external_id"],
                "tasks": PAGE_TASKS.get(page["role"].upper(), ["ANALYZE"]),
            }
            if asked:
                entry = {k: v for k, v in entry.items() if k in asked or k == "id"}
                if "username" in asked:
                    entry["username"] = page["handle"].lstrip("@")
            instagram = _instagram_of(c, page["id"])
            if instagram is not None and (not asked or "instagram_business_account" in asked):
                entry["instagram_business_account"] = _ig_node(instagram)
            data.append(entry)
        return reply(200, {"data": data, "paging": _paging(start, len(data), len(held), limit)})


# me/accounts answers 25 Pages a call unless asked for another `limit`, with
# cursors and a `next` URL while more remain (Graph API, "Paginated Results").
DEFAULT_LIMIT, MAX_LIMIT = 25, 100


def _limit(value):
    try:
        return min(max(int(value), 1), MAX_LIMIT)
    except (TypeError, ValueError):
        return DEFAULT_LIMIT


def _cursor_of(index):
    return base64.urlsafe_b64encode(f"page:{index}".encode()).decode().rstrip("=")


def _cursor(value):
    """The index a cursor stands for (0 for none or a cursor the sandbox never gave)."""
    if not value:
        return 0
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        return max(int(text.removeprefix("page:")), 0)
    except (ValueError, UnicodeDecodeError):
        return 0


def _paging(start, count, total, limit):
    paging = {"cursors": {"before": _cursor_of(start), "after": _cursor_of(start + max(count, 1) - 1)}}
    if start + count < total:
        query = {k: v for k, v in request.args.items() if k not in ("after", "appsecret_proof")}
        query.update(access_token=bearer(), limit=str(limit), after=_cursor_of(start + count))
        path = request.path.removeprefix("/sandbox/graph.facebook.com")
        paging["next"] = f"https://graph.facebook.com{path}?{urlencode(query)}"
    return paging


@endpoint("facebook", "me", meta_fault)
@version_checked
def graph_me(**_path):
    with store.transaction() as c:
        grant, problem = _authenticated(c)
        if problem:
            return problem
        if grant["kind"] == "page":
            page = store.one(c, sa.select(store.accounts).where(store.accounts.c.id == grant["account_id"]))
            return reply(200, {"id": page["external_id"], "name": page["name"]})
        person = store.one(c, sa.select(store.persons).where(store.persons.c.id == grant["person_id"]))
        return reply(200, {"id": person["external_id"], "name": person["name"]})


@endpoint("facebook", "node", meta_fault)
@version_checked
def graph_node(node_id, **_path):
    with store.transaction() as c:
        grant, problem = _authenticated(c)
        if problem:
            return problem
        account = store.one(c, sa.select(store.accounts).where(
            store.accounts.c.network.in_(["facebook", "instagram_business"]),
            store.accounts.c.external_id == node_id))
        allowed = account is not None and (
            (grant["kind"] == "page" and grant["account_id"] in (account["id"], account["linked_id"]))
            or (grant["kind"] != "page" and store.role_of(c, grant["person_id"], account["id"]) is not None))
        if not allowed:
            return error(f"Unsupported get request. Object with ID '{node_id}' does not exist, cannot be loaded due "
                         "to missing permissions, or does not support this operation.", 100, 33)
        asked = set(fields()) or {"id", "name"}
        if account["network"] == "instagram_business":
            node = _ig_node(account)
        else:
            node = {"id": account["external_id"], "name": account["name"],
                    "username": account["handle"].lstrip("@")}
            instagram = _instagram_of(c, account["id"])
            if instagram is not None:
                node["instagram_business_account"] = _ig_node(instagram)
        return reply(200, {k: v for k, v in node.items() if k in asked or k == "id"})


@endpoint("facebook", "debug_token", meta_fault)
@version_checked
def graph_debug_token(**_path):
    app_token = param("access_token") or ""
    with store.transaction() as c:
        client_id, _sep, secret = app_token.partition("|")
        caller = None
        if not (secret and store.client_ok(c, "facebook", client_id, secret)):
            caller = store.by_access_token(c, app_token, "facebook")
            if caller is None or store.access_problem(caller):
                return error("Invalid OAuth access token signature.", 190)
            client_id = caller["client_id"]
        wrong_proof = proof_problem(c, client_id, app_token)
        if wrong_proof:
            return wrong_proof
        grant = store.by_access_token(c, param("input_token"), "facebook")
        if grant is None or grant["client_id"] != client_id:
            code, _sub, message = state_error("unknown")
            return reply(200, {"data": {"error": {"code": code, "message": message}, "is_valid": False,
                                        "scopes": []}})
        seen(grant["network"])
        return reply(200, {"data": _debug_data(c, grant)})


def _debug_data(c, grant):
    person = store.one(c, sa.select(store.persons).where(store.persons.c.id == grant["person_id"]))
    scopes = grant["scopes"].split()
    pages = [a["external_id"] for a in store.accounts_of(c, grant["person_id"], "facebook")]
    instagram = [a["external_id"] for a in store.accounts_of(c, grant["person_id"], "instagram_business")]
    granular = []
    for scope in scopes:
        if scope.startswith("pages_"):
            granular.append({"scope": scope, "target_ids": pages})
        elif scope.startswith("instagram_"):
            granular.append({"scope": scope, "target_ids": instagram})
        else:
            granular.append({"scope": scope})
    data = {
        "app_id": grant["client_id"],
        "type": {"page": "PAGE", "system": "SYSTEM_USER"}.get(grant["kind"], "USER"),
        "application": "Keepalive",
        "data_access_expires_at": int(grant["data_access_expires_at"] or 0),
        "expires_at": int(grant["access_expires_at"] or 0),
        "is_valid": True,
        "issued_at": int(grant["issued_at"]),
        "scopes": scopes,
        "granular_scopes": granular,
        "user_id": person["external_id"],
    }
    if grant["kind"] == "page":
        page = store.one(c, sa.select(store.accounts).where(store.accounts.c.id == grant["account_id"]))
        data["profile_id"] = page["external_id"]
    problem = store.access_problem(grant)
    if problem:
        code, subcode, message = state_error(problem, grant)
        data["is_valid"] = False
        data["error"] = {"code": code, "message": message, **({"subcode": subcode} if subcode else {})}
    return data


@endpoint("facebook", "permissions", meta_fault)
@version_checked
def graph_delete_permissions(node_id, **_path):
    """DELETE /{user-id}/permissions: the person's authorization of the app
    taken back, with the app access token or the person's own user token
    (https://developers.facebook.com/docs/graph-api/reference/user/permissions/).
    Every token of theirs for the app then answers 190/458, as when they
    remove the app themselves."""
    token = bearer() or ""
    with store.transaction() as c:
        client_id, _sep, secret = token.partition("|")
        caller = None
        if secret:
            if not store.client_ok(c, "facebook", client_id, secret):
                return error("Invalid OAuth access token signature.", 190)
            wrong_proof = proof_problem(c, client_id, token)
            if wrong_proof:
                return wrong_proof
        else:
            caller, problem = _authenticated(c)
            if problem:
                return problem
            if caller["kind"] not in ("user", "long"):
                return error("(#100) Permissions can be removed with a user access token or the app access "
                             "token only", 100)
            client_id = caller["client_id"]
        person = _person_of_node(c, node_id, caller)
        held = [] if person is None else store.many(c, sa.select(store.grants).where(
            store.grants.c.person_id == person["id"], store.grants.c.provider == "facebook",
            store.grants.c.client_id == client_id))
        if not held or (caller is not None and caller["person_id"] != person["id"]):
            return error(f"Unsupported delete request. Object with ID '{node_id}' does not exist, cannot be loaded "
                         "due to missing permissions, or does not support this operation.", 100, 33)
        seen(held[-1]["network"])
        c.execute(store.grants.update().where(
            store.grants.c.person_id == person["id"], store.grants.c.provider == "facebook",
            store.grants.c.client_id == client_id, store.grants.c.state == store.ACTIVE).values(state="app_removed"))
    return reply(200, {"success": True})


def _person_of_node(c, node_id, caller):
    if node_id == "me":
        return None if caller is None else store.person(c, caller["person_id"])
    return store.one(c, sa.select(store.persons).where(store.persons.c.external_id == node_id))


# ---------------------------------------------------------------- Instagram Login and Threads


def _ig_like_code_error(provider, why):
    if provider == "instagram":
        messages = {"used": "This authorization code has been used", "expired": "This authorization code has expired",
                    "redirect_uri": "Error validating verification code. Please make sure your redirect_uri is "
                                    "identical to the one you used in the OAuth dialog request"}
        return reply(400, {"error_type": "OAuthException", "code": 400,
                           "error_message": messages.get(why, "Invalid authorization code")})
    message, number, subcode = CODE_ERRORS.get(why, CODE_ERRORS["unknown"])
    return error(message, number, subcode)


def _ig_like_client_error(provider, known):
    if provider == "instagram":
        message = "Error validating client secret." if known else "Invalid platform app"
        return reply(400, {"error_type": "OAuthException", "code": 400, "error_message": message})
    return error("Error validating client secret." if known else "Error validating application. Invalid "
                 "application ID.", 1 if known else 101)


def ig_like_code_exchange(provider):
    """POST …/oauth/access_token: the code for a short-lived (1 h) token."""

    @endpoint(provider, "oauth/access_token", meta_fault)
    def view(**_path):
        client_id = param("client_id")
        with store.transaction() as c:
            if not store.client_ok(c, provider, client_id, param("client_secret")):
                return _ig_like_client_error(provider, store.client_ok(c, provider, client_id, check_secret=False))
            code, why = store.redeem_code(c, provider, param("code"), client_id, param("redirect_uri"))
            if code is None:
                return _ig_like_code_error(provider, why)
            grant = store.issue(
                c, provider, provider, client_id, code["person_id"], kind="user", account_id=code["account_id"],
                scopes=code["scopes"], access_lifetime=_lifetime(c, provider, "short_lifetime", SHORT_LIFETIME),
                code=code["code"], access_prefix="IGAA" if provider == "instagram" else "THAA",
            )
            account = store.one(c, sa.select(store.accounts).where(store.accounts.c.id == code["account_id"]))
        if provider == "instagram":
            return reply(200, {"access_token": grant["access_token"], "user_id": _number(account["external_id"]),
                               "permissions": code["scopes"].split()})
        return reply(200, {"access_token": grant["access_token"], "user_id": account["external_id"]})

    view.__name__ = f"{provider}_code_exchange"
    return view


def _number(external_id):
    return int(external_id) if external_id.isdigit() else external_id


def ig_like_exchange(provider, grant_type):
    """GET …/access_token?grant_type=ig_exchange_token|th_exchange_token: short-lived for 60 days."""

    @endpoint(provider, "access_token", meta_fault)
    def view(**_path):
        if param("grant_type") != grant_type:
            return error(f"Unsupported grant_type, expected {grant_type}", 100)
        with store.transaction() as c:
            grant = store.by_access_token(c, param("access_token"), provider)
            problem = store.access_problem(grant)
            if problem:
                return token_error(problem, grant)
            if not store.client_ok(c, provider, grant["client_id"], param("client_secret")):
                return error("Error validating client secret.", 1)
            if grant["kind"] != "user":
                return error("(#100) The access token is already long-lived: refresh it instead.", 100)
            fresh = _renewed(c, provider, grant)
        return _token_reply(fresh)

    view.__name__ = f"{provider}_exchange"
    return view


def ig_like_refresh(provider, grant_type):
    """GET …/refresh_access_token: a long-lived token at least 24 h old and not
    expired, for a fresh 60-day one."""

    @endpoint(provider, "refresh_access_token", meta_fault)
    def view(**_path):
        if param("grant_type") != grant_type:
            return error(f"Unsupported grant_type, expected {grant_type}", 100)
        with store.transaction() as c:
            grant = store.by_access_token(c, param("access_token"), provider)
            problem = store.access_problem(grant)
            if problem:
                return token_error(problem, grant)
            if grant["kind"] != "long":
                return error("(#100) Only long-lived access tokens can be refreshed.", 100)
            minimum = _lifetime(c, provider, "refresh_min_age", REFRESH_MIN_AGE)
            if store.now() - grant["issued_at"] < minimum:
                return error("(#100) The access token can be refreshed only when it is at least 24 hours old.", 100)
            fresh = _renewed(c, provider, grant)
        return _token_reply(fresh)

    view.__name__ = f"{provider}_refresh"
    return view


def _renewed(c, provider, grant):
    return store.issue(
        c, provider, provider, grant["client_id"], grant["person_id"], kind="long", account_id=grant["account_id"],
        scopes=grant["scopes"], access_lifetime=_lifetime(c, provider, "access_lifetime", LONG_LIFETIME),
        lineage=grant["lineage"], rotated_from=grant["id"], code=grant["code"], consented_at=grant["consented_at"],
        access_prefix="IGAA" if provider == "instagram" else "THAA",
    )


def ig_like_me(provider):
    """GET …/me: the account the token belongs to."""

    @endpoint(provider, "me", meta_fault)
    def view(**_path):
        with store.transaction() as c:
            grant, problem = _authenticated(c, provider)
            if problem:
                return problem
            account = store.one(c, sa.select(store.accounts).where(store.accounts.c.id == grant["account_id"]))
        node = {"id": account["external_id"], "user_id": account["external_id"],
                "username": account["handle"].lstrip("@"), "name": account["name"], "account_type": "BUSINESS"}
        asked = set(fields()) or {"id", "username"}
        return reply(200, {k: v for k, v in node.items() if k in asked or k == "id"})

    view.__name__ = f"{provider}_me"
    return view


def register(bp):
    route(bp, ["/www.facebook.com/<version>/dialog/oauth", "/www.facebook.com/dialog/oauth"],
          consent.authorize_view(FACEBOOK), methods=("GET", "POST"), name="facebook_authorize")
    graph = "/graph.facebook.com"
    route(bp, [f"{graph}/<version>/oauth/access_token", f"{graph}/oauth/access_token"], graph_access_token,
          methods=("GET", "POST"))
    route(bp, [f"{graph}/<version>/debug_token", f"{graph}/debug_token"], graph_debug_token)
    route(bp, [f"{graph}/<version>/me/accounts", f"{graph}/me/accounts"], graph_me_accounts)
    route(bp, [f"{graph}/<version>/<node_id>/permissions", f"{graph}/<node_id>/permissions"],
          graph_delete_permissions, methods=("DELETE",))
    route(bp, [f"{graph}/<version>/me", f"{graph}/me"], graph_me)
    route(bp, [f"{graph}/<version>/<node_id>", f"{graph}/<node_id>"], graph_node)

    route(bp, ["/www.instagram.com/oauth/authorize", "/api.instagram.com/oauth/authorize"],
          consent.authorize_view(INSTAGRAM), methods=("GET", "POST"), name="instagram_authorize")
    route(bp, ["/api.instagram.com/oauth/access_token"], ig_like_code_exchange("instagram"), methods=("POST",))
    route(bp, ["/graph.instagram.com/access_token", "/graph.instagram.com/<version>/access_token"],
          ig_like_exchange("instagram", "ig_exchange_token"))
    route(bp, ["/graph.instagram.com/refresh_access_token", "/graph.instagram.com/<version>/refresh_access_token"],
          ig_like_refresh("instagram", "ig_refresh_token"))
    route(bp, ["/graph.instagram.com/me", "/graph.instagram.com/<version>/me"], ig_like_me("instagram"))

    # Threads' current hosts are threads.com and graph.threads.com; the .net ones still answer.
    route(bp, ["/threads.com/oauth/authorize", "/www.threads.com/oauth/authorize", "/threads.net/oauth/authorize",
               "/www.threads.net/oauth/authorize"],
          consent.authorize_view(THREADS), methods=("GET", "POST"), name="threads_authorize")
    threads_graph = ("/graph.threads.com", "/graph.threads.net")
    route(bp, [f"{host}{path}" for host in threads_graph for path in ("/oauth/access_token",
                                                                        "/<version>/oauth/access_token")],
          ig_like_code_exchange("threads"), methods=("POST",))
    route(bp, [f"{host}{path}" for host in threads_graph for path in ("/access_token", "/<version>/access_token")],
          ig_like_exchange("threads", "th_exchange_token"))
    route(bp, [f"{host}{path}" for host in threads_graph
               for path in ("/refresh_access_token", "/<version>/refresh_access_token")],
          ig_like_refresh("threads", "th_refresh_token"))
    route(bp, [f"{host}{path}" for host in threads_graph for path in ("/<version>/me", "/me")], ig_like_me("threads"))
