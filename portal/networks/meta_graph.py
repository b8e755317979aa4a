"""Facebook Pages and Instagram business accounts (Facebook Login, Graph API).

A consent gives a short-lived user token; it is exchanged at once for a
long-lived one (`fb_exchange_token`, about 60 days), which lists the Pages the
person has a task on, each with a Page token that has no expiry. A Page's
credential is its Page token alone: what ends is data access
(`debug_token`'s `data_access_expires_at`, 90 days after the person last went
through Facebook Login), and only a new consent renews it. A Page read
without a Page token keeps the long-lived user token, re-exchanged while it
is valid.

An agency may instead give a Business Manager system user's token (no expiry,
or 60 days): it is the credential itself, with nothing to refresh; a new one is
generated in Business Manager (`adopt_system_user_token`).
"""
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import date
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from portal.models import PAGE_TOKEN, SYSTEM_USER_TOKEN, CanRenew, InvalidReason
from portal.networks.base import (
    Adapter,
    retry_after,
    Grant,
    GrantedProfile,
    TokenSet,
    Validation,
    moment,
    secret_in_query,
    utcnow,
)
from portal.networks.outcomes import (
    OK,
    NotASystemUserToken,
    app_settings,
    RenewNeeded,
    Stage,
    UnexpectedResponse,
    is_success,
    permission,
    reason_from_text,
    renew,
    server_side,
    transient,
    unexpected,
)

GRAPH = "https://graph.facebook.com"

# The Graph API versions Meta lists with the day each stops being available
# (None: not announced yet), from https://developers.facebook.com/docs/graph-api/changelog/versions/
# (seen 2026-12). A call to an ended version is served by the next oldest
# available one, with its changes (https://developers.facebook.com/docs/graph-api/guides/versioning).
GRAPH_API_VERSIONS = {
    "v26.0": None,
    "v25.0": date(2028, 7, 29),
    "v24.0": date(2028, 2, 18),
    "v23.0": date(2027, 10, 8),
    "v22.0": date(2027, 5, 20),
    "v21.0": date(2027, 1, 21),
    "v20.0": date(2026, 9, 24),
    "v19.0": date(2026, 5, 21),
    "v18.0": date(2026, 1, 26),
    "v17.0": date(2025, 9, 12),
}
DEFAULT_GRAPH_API_VERSION = "v26.0"


def graph_version_end(version):
    """The last day Meta keeps `version` available, or None when not announced (or unknown)."""
    return GRAPH_API_VERSIONS.get(version)

# Facebook's classic Page roles, from the tasks a person has on the Page.
ROLE_BY_TASK = [
    ("MANAGE", "Admin"),
    ("CREATE_CONTENT", "Editor"),
    ("MODERATE", "Moderator"),
    ("ADVERTISE", "Advertiser"),
    ("ANALYZE", "Analyst"),
]

SCOPES = {
    "facebook": ("pages_show_list", "pages_manage_posts", "pages_read_engagement", "business_management"),
    "instagram_business": (
        "pages_show_list", "pages_manage_posts", "pages_read_engagement", "business_management",
        "instagram_basic", "instagram_content_publish", "instagram_manage_insights",
    ),
}


# --- Meta's error rules (Instagram Login and Threads answer alike) ---------

META_SUBCODE_REASONS = {
    458: InvalidReason.APP_REMOVED,
    459: InvalidReason.CHECKPOINT,  # the person must log in at the network
    460: InvalidReason.PASSWORD_CHANGED,
    463: InvalidReason.EXPIRED,
    464: InvalidReason.CHECKPOINT,  # unconfirmed user: log in and confirm the account
    467: InvalidReason.UNKNOWN,  # session invalidated, e.g. logged out
    492: InvalidReason.ROLE_CHANGED,  # no longer a Page admin, editor or moderator
}
# Rate limits and temporary errors; 80000-80014 are the business use case
# rate limits (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/).
META_TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 613, *range(80000, 80015)}
# Meta refusing the app itself, not anyone's token: its secret, its id, the
# proof made with the secret, an ended API version (code 2635).
META_APP_MESSAGES = ("client secret", "appsecret_proof", "invalid application id", "invalid platform app",
                     "deprecated version")
META_APP_CODES = {101, 2635}


def meta_error(body):
    """Meta's `error` object of a body (also debug_token's `data.error`, and
    Instagram Login's flat `error_type`/`error_message`), or None."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        return error
    if "error_message" in body:
        return {"code": body.get("code"), "message": body.get("error_message"), "type": body.get("error_type")}
    data = body.get("data")
    if isinstance(data, dict) and data.get("is_valid") is False:
        error = data.get("error")
        return error if isinstance(error, dict) else {"code": 190, "message": "token is not valid"}
    return None


def classify_meta(status, body, stage=Stage.API):
    error = meta_error(body)
    if error is None:
        if is_success(status):
            return OK
        return server_side(status) or unexpected(f"HTTP {status}")
    try:
        code = int(error.get("code") or 0)
    except (TypeError, ValueError):
        code = 0
    try:
        subcode = int(error.get("error_subcode") or error.get("subcode") or 0)
    except (TypeError, ValueError):
        subcode = 0
    message = str(error.get("message") or "")
    detail = f"Meta error {code}" + (f"/{subcode}" if subcode else "") + (f": {message}" if message else "")
    if code in META_APP_CODES or any(words in message.lower() for words in META_APP_MESSAGES):
        # Code 1 or 100 as well, but no retry mends a wrong secret: the Owners must.
        return app_settings(detail)
    if code in (190, 102):
        if subcode in META_SUBCODE_REASONS:
            return renew(META_SUBCODE_REASONS[subcode], detail)
        return renew(_meta_reason_from_message(message), detail)
    if code in META_TRANSIENT_CODES or error.get("is_transient") is True:
        return transient(detail)
    if code == 10 or 200 <= code <= 299:
        return permission(detail)
    return server_side(status) or unexpected(detail)


def meta_wait(response):
    """Seconds until Meta lets the app call again: the longest
    `estimated_time_to_regain_access` (minutes) of the business use case
    usage header, else `Retry-After`."""
    try:
        usage = json.loads(response.headers.get("X-Business-Use-Case-Usage") or "{}")
        minutes = max((float(entry.get("estimated_time_to_regain_access") or 0)
                       for entries in usage.values() for entry in entries if isinstance(entry, dict)), default=0)
    except (ValueError, TypeError, AttributeError):
        minutes = 0
    return int(minutes * 60) if minutes else retry_after(response.headers.get("Retry-After"))


def classify_debug_token(status, body, stage=Stage.API):
    """The answer to a call made with the app access token (debug_token, a
    revocation): an error at the top of the body is about that app token (app
    id and secret, "Invalid OAuth access token signature."), never about the
    token debug_token was asked about, which comes back inside `data`."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and str(error.get("code")) in ("190", "102"):
        return app_settings(f"Meta refused the app access token of debug_token: {error.get('message', '')}".strip())
    return classify_meta(status, body, stage)


def _meta_reason_from_message(message):
    text = message.lower()
    if "has not authorized application" in text or "deauthorized" in text:
        return InvalidReason.APP_REMOVED
    if "must be an administrator" in text or "must be an admin" in text:
        return InvalidReason.ROLE_CHANGED
    return reason_from_text(text)


# --- the adapter -----------------------------------------------------------


def appsecret_proof(app_secret, access_token):
    """HMAC-SHA256 of the access token keyed with the app secret, in hex: what
    an app with "Require App Secret" must send with every Graph call
    (https://developers.facebook.com/docs/graph-api/guides/secure-requests)."""
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


def page_role(tasks):
    """(native role, can_renew) of a person with `tasks` on a Page: renewing needs MANAGE."""
    if tasks is None:
        return "", CanRenew.UNKNOWN
    tasks = {str(task).upper() for task in tasks}
    role = next((name for task, name in ROLE_BY_TASK if task in tasks), "")
    return role or ", ".join(sorted(tasks)), CanRenew.YES if "MANAGE" in tasks else CanRenew.NO


class MetaGraphAdapter(Adapter):
    family = "meta_graph"
    scope_separator = ","
    token_endpoint_auth_method = "client_secret_query"
    classify = staticmethod(classify_meta)
    wait_for = staticmethod(meta_wait)

    @property
    def version(self):
        return self.settings.graph_api_version or DEFAULT_GRAPH_API_VERSION

    @property
    def authorize_endpoint(self):
        return f"https://www.facebook.com/{self.version}/dialog/oauth"

    @property
    def token_endpoint(self):
        return f"{GRAPH}/{self.version}/oauth/access_token"

    @property
    def scopes(self):
        return SCOPES[self.network]

    def prepare_client(self, client):
        client.register_client_auth_method(("client_secret_query", secret_in_query))

    def api(self, method, url, token=None, stage=Stage.API, classify=None, **kwargs):
        """Every Graph call carries `appsecret_proof` for the access token it
        sends (in `params`, or already in a paging URL), so that apps with
        "Require App Secret" on, as Meta recommends, are served."""
        parts = urlsplit(url)
        # The query of a paging URL joins the parameters (the HTTP client would drop it).
        params = {**dict(parse_qsl(parts.query)), **(kwargs.pop("params", None) or {})}
        access_token = params.get("access_token") or token
        if access_token and "appsecret_proof" not in params:
            params["appsecret_proof"] = appsecret_proof(self.settings.client_secret, access_token)
        url = urlunsplit(parts._replace(query=""))
        return super().api(method, url, token=token, stage=stage, classify=classify, params=params, **kwargs)

    # -- interface --------------------------------------------------------

    def exchange_code(self, code, code_verifier=None, redirect_uri=None):
        short = self.fetch_token(code, redirect_uri=redirect_uri, method="GET")
        user_token = self.long_lived(short["access_token"])
        now = utcnow()
        debug = self.debug_token(user_token)
        me = self.graph(f"{self.version}/me", user_token, fields="id,name")
        user_end = moment(debug.get("expires_at"))
        common = dict(data_access_expires_at=moment(debug.get("data_access_expires_at")),
                      scopes=" ".join(debug.get("scopes") or []), issued_at=now,
                      person_external_id=str(me.get("id") or debug.get("user_id") or "") or None)
        profiles = []
        for page in self.pages(user_token):
            role, can_renew = page_role(page.get("tasks"))
            if page.get("access_token"):
                # A Page token from a long-lived user token does not expire:
                # what ends is data access, which only a new consent renews.
                self.keep_secret(page["access_token"])
                tokens = TokenSet(page["access_token"], token_type=PAGE_TOKEN, **common)
            else:  # no task on the Page: only the user token reads it
                tokens = TokenSet(user_token, user_token, expires_at=user_end, refresh_expires_at=user_end,
                                  token_type="user", **common)
            if self.network == "facebook":
                profiles.append(GrantedProfile(
                    network=self.network,
                    external_id=str(page["id"]),
                    name=page.get("name") or str(page["id"]),
                    handle=_handle(page.get("username")),
                    tokens=tokens,
                    native_role=role,
                    can_renew=can_renew,
                ))
                continue
            account = self.instagram_account(page, tokens.access_token)
            if account:
                profiles.append(GrantedProfile(
                    network=self.network,
                    external_id=str(account["id"]),
                    name=account.get("name") or account.get("username") or str(account["id"]),
                    handle=_handle(account.get("username")),
                    tokens=tokens,
                    native_role=role,
                    can_renew=can_renew,
                ))
        return Grant(person_external_id=str(me.get("id", "")), person_name=me.get("name", ""), profiles=profiles)

    def can_refresh(self, tokens):
        return tokens.token_type != PAGE_TOKEN and bool(self.user_token_of(tokens))

    def refresh(self, tokens):
        """A user token is re-exchanged while it is valid, and its end read
        back from debug_token (Meta documents the exchange for short-lived
        tokens: whether it extends a long-lived one is not promised, so the
        end kept is Meta's own answer).

        A Page token has nothing to renew. One stored with the user token it
        came from (as Keepalive once kept them) is checked with debug_token
        and kept without that user token: a working Page token is never
        called dead because the user token ended."""
        if tokens.token_type == PAGE_TOKEN:
            checked = self.validate(tokens)
            return TokenSet(
                tokens.access_token, expires_at=checked.expires_at,
                data_access_expires_at=checked.data_access_expires_at or tokens.data_access_expires_at,
                scopes=checked.scopes or tokens.scopes, token_type=PAGE_TOKEN, issued_at=tokens.issued_at,
                person_external_id=tokens.person_external_id,
            )
        user_token = self.user_token_of(tokens)
        if not user_token:
            raise UnexpectedResponse(f"{self.network}: this token has no user token to renew with")
        end = tokens.refresh_expires_at if tokens.refresh_token else tokens.expires_at
        if end is not None and end <= utcnow():
            raise RenewNeeded(InvalidReason.EXPIRED, "the long-lived user token has expired")
        new_user_token = self.long_lived(user_token)
        now = utcnow()
        debug = self.debug_token(new_user_token)
        expires_at = moment(debug.get("expires_at"))
        return TokenSet(
            access_token=new_user_token,
            refresh_token=new_user_token,
            expires_at=expires_at,
            refresh_expires_at=expires_at,
            data_access_expires_at=moment(debug.get("data_access_expires_at")) or tokens.data_access_expires_at,
            scopes=" ".join(debug.get("scopes") or []) or tokens.scopes,
            token_type=tokens.token_type,
            issued_at=now,
            person_external_id=tokens.person_external_id,
        )

    def validate(self, tokens, after_refresh=False):
        data = self.debug_token(tokens.access_token)
        return Validation(
            ok=True,
            expires_at=moment(data.get("expires_at")),
            data_access_expires_at=moment(data.get("data_access_expires_at")),
            scopes=" ".join(data.get("scopes") or []),
        )

    def adopt_system_user_token(self, token, external_id):
        """The TokenSet of a Business Manager system-user token for the Page
        or Instagram account `external_id`: Meta must call it a valid system
        user's token of this app, and the account must answer to it. Raises
        NotASystemUserToken, or the classified error of the call."""
        data = self.debug_token(token)
        if data.get("type") != "SYSTEM_USER":
            raise NotASystemUserToken(f"a token of type {data.get('type')!r}")
        if str(data.get("app_id")) != str(self.settings.client_id):
            raise NotASystemUserToken("a token of another app")
        self.graph(f"{self.version}/{external_id}", token, fields="id")
        return TokenSet(
            access_token=token,
            refresh_token=None,
            expires_at=moment(data.get("expires_at")),
            refresh_expires_at=None,
            data_access_expires_at=moment(data.get("data_access_expires_at")),
            scopes=" ".join(data.get("scopes") or []),
            token_type=SYSTEM_USER_TOKEN,
            issued_at=utcnow(),
            person_external_id=str(data.get("user_id") or "") or None,
        )

    # -- revocation ---------------------------------------------------------

    # `DELETE /{user-id}/permissions` takes the person's whole authorization
    # of the app back, with the app access token
    # (https://developers.facebook.com/docs/graph-api/reference/user/permissions/).
    offers_revocation = True

    def whose(self, tokens):
        """The tokens with the person who granted them, from debug_token's
        `user_id` when it was not kept (a Page token knows its person only there)."""
        if tokens.person_external_id:
            return tokens
        person = self.debug_token(tokens.access_token).get("user_id")
        if not person:
            raise UnexpectedResponse(f"{self.network}: debug_token named no user for this token")
        return replace(tokens, person_external_id=str(person))

    def same_grant(self, tokens, other):
        """One person's authorization of the app is one grant: revoking it ends
        every Page and Instagram token it gave. A token kept without its person
        may be one of them."""
        person = other.person_external_id
        return person is None or person == tokens.person_external_id or super().same_grant(tokens, other)

    def revoke(self, tokens):
        """De-authorize the app for the person who granted `tokens`. Raises the
        classified NetworkError of a refusal."""
        person = self.whose(tokens).person_external_id
        app_token = f"{self.settings.client_id}|{self.settings.client_secret}"
        self.keep_secret(tokens.access_token, app_token)
        body = self.api("DELETE", f"{GRAPH}/{self.version}/{person}/permissions", params={"access_token": app_token},
                        stage=Stage.TOKEN, classify=classify_debug_token)
        if body.get("success") is not True:
            raise UnexpectedResponse(f"{self.network}: the revocation was not confirmed")

    # -- Graph calls --------------------------------------------------------

    def user_token_of(self, tokens):
        """The long-lived user token renewals start from (kept in the refresh slot)."""
        return tokens.refresh_token or (tokens.access_token if tokens.token_type == "user" else None)

    def long_lived(self, user_token):
        """`fb_exchange_token`: a long-lived user token for a (short- or long-lived) one."""
        self.keep_secret(user_token)
        with self.client() as client:
            token = self.call(
                client.fetch_token,
                self.token_endpoint,
                method="GET",
                grant_type="fb_exchange_token",
                fb_exchange_token=user_token,
            )
        self.keep_secret(token["access_token"])
        return token["access_token"]

    def debug_token(self, token):
        """debug_token's `data`; a token Meta calls invalid raises its classified error."""
        app_token = f"{self.settings.client_id}|{self.settings.client_secret}"
        self.keep_secret(token, app_token)
        body = self.get(f"{GRAPH}/debug_token", params={"input_token": token, "access_token": app_token},
                        classify=classify_debug_token)
        return body.get("data") or {}

    def graph(self, path, token, stage=Stage.API, **params):
        return self.get(f"{GRAPH}/{path}", params={**params, "access_token": token}, stage=stage)

    def pages(self, user_token):
        """Every Page the person has a task on (me/accounts, all pages of it)."""
        body = self.graph(
            f"{self.version}/me/accounts", user_token, fields="id,name,username,access_token,tasks", limit="100"
        )
        pages = list(body.get("data") or [])
        next_url = (body.get("paging") or {}).get("next")
        for _ in range(50):  # a bound against a paging loop
            if not next_url:
                break
            body = self.get(next_url)
            pages.extend(body.get("data") or [])
            next_url = (body.get("paging") or {}).get("next")
        return pages

    def instagram_account(self, page, token):
        """The Instagram professional account linked to a Page, or None."""
        body = self.graph(
            f"{self.version}/{page['id']}", token, fields="instagram_business_account{id,username,name}"
        )
        account = body.get("instagram_business_account")
        if not isinstance(account, dict) or not account.get("id"):
            return None
        if not account.get("username"):
            details = self.graph(f"{self.version}/{account['id']}", token, fields="id,username,name")
            account = {**account, **{k: v for k, v in details.items() if v}}
        return account


def _handle(username):
    return f"@{username}" if username else ""
