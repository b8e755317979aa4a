"""The token API (`/api/v1`, JSON, `Authorization: Bearer <key>`), its
OpenAPI document and its reference page (`/api/docs`).

A key is read from the Authorization header only: no cookie, no browser
session is looked at (the views are `bearer_only`), so CSRF does not apply
and the blueprint is exempt from it.
"""
from collections import defaultdict
from functools import wraps

from email_validator import EmailNotValidError, validate_email
from flask import Blueprint, current_app, g, render_template, request
from flask_login import AnonymousUserMixin
from sqlmodel import select

from portal.api import keys, limits, problems, queries, reference, tokens
from portal.api.rules import api_status, key_problem, use_audited, use_due
from portal.api.schemas import (FallbackQuery, Problem, Profile, ProfilePage, ProfileRef, ProfilesQuery, RenewalLink,
                                RenewalLinkBody, ReportAccepted, ReportBody, Token, TokenQuery)
from portal.api.spec import Answers, document, spec
from portal.audit import audit
from portal.crypto import unseal
from portal.db import close_session, get_session, utcnow
from portal.links import service as links
from portal.links.rules import Purpose
from portal.models import ApiScope, Brand, Membership, ProfileAccess, User
from portal.networks import NETWORKS, NotConfigured, adapter_for, network
from portal.notifications.rules import recipients
from portal.profiles import brands_by_profile
from portal.renewal.policy import policy_for
from portal.renewal.rules import can_renew_silently
from portal.status import effective_expiry
from portal.templating import profile_url
from portal.tenancy import bearer_only

bp = Blueprint("api", __name__, url_prefix="/api")

# Seconds a caller waits when a network did not say.
UNAVAILABLE_RETRY = 60
WWW_AUTHENTICATE = 'Bearer realm="Keepalive API"'
KEY_PROBLEMS = {
    "unknown": "Send a valid API key as `Authorization: Bearer ka_live_…`.",
    "revoked": "This API key was revoked.",
    "expired": "This API key has expired.",
}


# --- authentication -----------------------------------------------------------------

def keyed(scope):
    """A route of the API: authenticated by the bearer key, counted against
    its rate limit, allowed by its scope (401, 429, 403 otherwise)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            authenticate(scope)
            return view(*args, **kwargs)

        return bearer_only(wrapped)

    return decorate


def authenticate(scope):
    # Nobody is signed in here, whatever cookie came along.
    g._login_user = AnonymousUserMixin()
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    found = keys.find(get_session(), secret.strip()) if scheme.lower() == "bearer" else None
    now = utcnow()
    problem = key_problem(found[0] if found else None, now)
    if problem:
        challenge = WWW_AUTHENTICATE + ("" if problem == "unknown" and not secret else ', error="invalid_token"')
        problems.fail("unauthorized", KEY_PROBLEMS[problem], headers={"WWW-Authenticate": challenge})
    key, organization = found
    per_minute = current_app.config["API_REQUESTS_PER_MINUTE"]
    retry_after = limits.take(key.id, per_minute)
    if retry_after:
        problems.fail("rate-limited", f"This key may make {per_minute} requests a minute.",
                      headers={"Retry-After": str(retry_after)})
    if scope not in key.scopes.split():
        problems.fail("forbidden", f"This request needs the scope `{scope}`.")
    g.api_key, g.organization, g.api_now = key, organization, now


@bp.after_request
def record_use(response):
    """The key's last use (time and address), at most once a minute; its
    first use, and first of each day, in the activity log."""
    key = g.get("api_key")
    if key is None or not use_due(key.last_used_at, g.api_now):
        return response
    close_session()  # its own short transaction, with the write lock from the start
    session = get_session(writes=True)
    if keys.record_use(session, key.id, request.remote_addr, g.api_now) and use_audited(key.last_used_at,
                                                                                        g.api_now):
        audit("api_key.used", actor_name=key.name, name=key.name, prefix=key.prefix, address=request.remote_addr)
    session.commit()
    return response


@bp.errorhandler(500)
def internal_error(error):
    return problems.from_http_error(error)


def json_body():
    """The body spectree checked; it lets a JSON `null` through unchecked."""
    if request.context.json is None:
        problems.fail("bad-request", "Send a JSON object.")
    return request.context.json


def not_found(what="profile"):
    problems.fail("not-found", f"No such {what} for this API key.")


def reachable_profile(profile_id, stored=False):
    """(profile, current credential or None), 404 beyond the key's reach;
    `stored`: as plain values, read the cheap way (the token routes)."""
    read = queries.stored_token if stored else queries.profile_with_credential
    found = read(get_session(), g.api_key, profile_id)
    if found is None:
        not_found()
    return found


def reachable_brand(brand_id):
    """404 for a brand of another agency, or other than the key's own."""
    if brand_id is None:
        return None
    key = g.api_key
    brand = get_session().get(Brand, brand_id)
    if brand is None or brand.organization_id != key.organization_id or key.brand_id not in (None, brand_id):
        not_found("brand")
    return brand_id


# --- answers ----------------------------------------------------------------------------

def page_url(profile_id):
    return current_app.config["BASE_URL"] + profile_url("accounts.profile", profile_id)


class Renewers:
    """Who may renew each of some profiles, read in two queries."""

    def __init__(self, session, organization_id, profile_ids):
        pairs = session.exec(select(Membership, User).join(User, User.id == Membership.user_id)
                             .where(Membership.organization_id == organization_id)).all()
        self.memberships = [membership for membership, _ in pairs]
        self.users = {user.id: user for _, user in pairs}
        self.levels = defaultdict(dict)
        if profile_ids:
            for access in session.exec(select(ProfileAccess).where(ProfileAccess.profile_id.in_(profile_ids))):
                self.levels[access.profile_id][access.user_id] = access.level

    def people(self, profile):
        return recipients(self.memberships, self.levels[profile.id], self.users)

    def of(self, profile):
        return {"permission": str(network(profile.network).native_permission),
                "people": [{"name": person.display_name, "email": person.email} for person in self.people(profile)]}


def renews_silently(profile, credential):
    if credential is None:
        return False
    try:
        return can_renew_silently(credential, policy_for(adapter_for(profile.network)))
    except NotConfigured:
        return False


def profile_answers(rows):
    session, now = get_session(), g.api_now
    ids = [profile.id for profile, _ in rows]
    brands, renewers = brands_by_profile(ids), Renewers(session, g.organization.id, ids)
    answers = []
    for profile, credential in rows:
        status, reason = api_status(credential, now, g.organization.expiry_window_days)
        answers.append(Profile(
            id=profile.id, network=profile.network, external_id=profile.external_id, name=profile.name,
            handle=profile.handle, brands=[{"id": brand.id, "name": brand.name} for brand in brands.get(profile.id, [])],
            status=status, invalid_reason=reason if status in ("expired", "invalid") else None,
            expires_at=effective_expiry(credential) if credential is not None else None,
            renews_silently=renews_silently(profile, credential), renewable_by=renewers.of(profile),
            url=page_url(profile.id),
        ))
    return answers


def token_answer(live):
    credential, profile = live.credential, live.profile
    answer = Token(
        access_token=unseal(credential.sealed_access_token), token_type=credential.token_type,
        scopes=credential.scopes.replace(",", " ").split(), expires_at=credential.expires_at,
        refreshed=live.refreshed,
        profile=ProfileRef(id=profile.id, network=profile.network, external_id=profile.external_id,
                           name=profile.name, handle=profile.handle),
    )
    return answer, 200, {"Cache-Control": "no-store"}


def dead(profile, reason):
    problems.fail("token-dead", "A person must renew this profile's token in Keepalive.",
                  reason=str(reason), renewal_url=page_url(profile.id))


# --- routes -------------------------------------------------------------------------------

@bp.get("/v1/profiles")
@keyed(ApiScope.PROFILES_READ)
@spec.validate(query=ProfilesQuery, resp=Answers(HTTP_200=ProfilePage, HTTP_404=Problem), tags=["profiles"], operation_id="listProfiles")
def profiles():
    """The profiles this key reaches

    Filtered by network, brand, token status and text (in the name or handle), a page of `limit` at a
    time in id order: pass `next_cursor` as `cursor` for the next page. A brand of another agency, or
    other than the key's own, answers 404.
    """
    query = request.context.query
    after = None
    if query.cursor:
        after = queries.decode_cursor(query.cursor)
        if after is None:
            problems.fail("bad-request", "`cursor` is not a cursor this API gave.")
    rows, more = queries.profiles_page(
        get_session(), g.api_key, g.organization, g.api_now, network=query.network and str(query.network),
        brand_id=reachable_brand(query.brand), status=query.status, text=query.q, after=after, limit=query.limit)
    next_cursor = queries.encode_cursor(rows[-1][0].id) if more else None
    return ProfilePage(data=profile_answers(rows), next_cursor=next_cursor)


@bp.get("/v1/profiles/<int:profile_id>")
@keyed(ApiScope.PROFILES_READ)
@spec.validate(resp=Answers(HTTP_200=Profile, HTTP_404=Problem), tags=["profiles"], operation_id="getProfile")
def profile(profile_id):
    """One profile

    Its network, names, brands, token status and effective expiry, whether Keepalive renews it
    silently, who may renew it, and its page in Keepalive.
    """
    return profile_answers([reachable_profile(profile_id)])[0]


@bp.get("/v1/profiles/<int:profile_id>/token")
@keyed(ApiScope.TOKENS_READ)
@spec.validate(query=TokenQuery, resp=Answers(no_store=True, HTTP_200=Token, HTTP_404=Problem, HTTP_409=Problem,
                                              HTTP_503=Problem), tags=["tokens"], operation_id="getToken")
def token(profile_id):
    """The profile's live access token

    Refreshed first when it ends within `min_valid_seconds` and its network allows, under the lock
    Keepalive's workers take: any number of callers at once cause one refresh at the network.
    `force_refresh=true` refreshes anyway. A Facebook Page or Instagram business account gets its Page
    token; a refresh token is never given. A token a person must renew answers 409 with the reason and
    the page to renew it on; one that ended while its network does not answer, 503.
    """
    profile, credential = reachable_profile(profile_id, stored=True)
    query = request.context.query
    try:
        live = tokens.live_token(profile, credential, query.min_valid_seconds, query.force_refresh)
    except tokens.TokenDead as error:
        dead(profile, error.reason)
    except tokens.Unavailable as error:
        problems.fail("unavailable", f"{network(profile.network).label} is not answering; try again later.",
                      headers={"Retry-After": str(error.retry_after or UNAVAILABLE_RETRY)})
    return token_answer(live)


@bp.get("/v1/networks/<network_key>/token")
@keyed(ApiScope.TOKENS_READ)
@spec.validate(query=FallbackQuery, resp=Answers(no_store=True, HTTP_200=Token, HTTP_404=Problem, HTTP_409=Problem),
               tags=["tokens"], operation_id="getNetworkToken", path_parameter_descriptions={"network_key": "A network key, e.g. `instagram_business`."})
def network_token(network_key):
    """A live token of any healthy profile of a network

    For read-only uses any account of the network serves (Instagram hashtag search): the profile
    handed out longest ago comes first, so use spreads over them. Dead and expiring tokens are skipped,
    and so are the profiles named in `exclude`; `profile` says whose token it is. 409 when none is left.
    """
    if network_key not in NETWORKS:
        not_found("network")
    query = request.context.query
    try:
        live = tokens.fallback(g.api_key, g.organization, network_key, brand_id=reachable_brand(query.brand),
                               exclude=query.exclude, min_valid_seconds=query.min_valid_seconds)
    except tokens.NoLiveToken:
        problems.fail("no-live-token", f"No healthy {network(network_key).label} profile has a live token.")
    return token_answer(live)


@bp.post("/v1/profiles/<int:profile_id>/token/report")
@keyed(ApiScope.TOKENS_READ)
@spec.validate(json=ReportBody, resp=Answers(HTTP_202=ReportAccepted, HTTP_404=Problem), tags=["tokens"],
               operation_id="reportToken")
def report(profile_id):
    """Report a token the network refused

    Keepalive checks it with its network at once, in a worker. If the network confirms it is dead,
    it is marked and the people who may renew it are told, as the scan would; a live one is left
    alone. A token reported again within a minute is not checked twice.
    """
    profile, _ = reachable_profile(profile_id, stored=True)
    body = json_body()
    status = tokens.report(profile.id)
    said = ", ".join(part for part in (body.http_status and f"HTTP {body.http_status}", body.error_code) if part)
    audit("token.reported", profile=profile, actor_name=g.api_key.name, key=g.api_key.name, said=said)
    get_session().commit()
    return ReportAccepted(status=status), 202


@bp.post("/v1/profiles/<int:profile_id>/renewal-links")
@keyed(ApiScope.LINKS_WRITE)
@spec.validate(json=RenewalLinkBody, resp=Answers(HTTP_201=RenewalLink, HTTP_404=Problem, HTTP_422=Problem),
               tags=["renewal links"], operation_id="sendRenewalLink")
def renewal_link(profile_id):
    """Send a renewal link

    To the account owner at the client (`client`: the link renews this one profile, without an
    account in Keepalive, valid 7 days, once), or to a person of the agency who may renew the
    profile (`member`: they sign in to use it; anyone else answers 422). The email goes out in
    `language`.
    """
    profile, _ = reachable_profile(profile_id)
    body = json_body()
    try:
        email = validate_email(body.email, check_deliverability=False, test_environment=True).normalized.lower()
    except EmailNotValidError:
        problems.fail("bad-request", "`email` is not an email address.")
    purpose = Purpose(body.recipient)
    session = get_session()
    if purpose == Purpose.MEMBER:
        allowed = {person.email.lower() for person in links.who_may_renew(session, profile)}
        if email not in allowed:
            problems.fail("not-a-recipient", "Only a person of the agency who may renew this profile gets a "
                                             "member's link; send a client's link to anyone else.")
    link = links.send(session, profile, email, purpose, g.organization.name, body.language,
                      actor_name=g.api_key.name)
    return RenewalLink(id=link.id, recipient=purpose, email=link.recipient, expires_at=link.expires_at), 201


# --- the document and its page ---------------------------------------------------------------

@bp.get("/v1/openapi.json")
def openapi():
    return current_app.json.response(document())


@bp.get("/docs")
def docs():
    """The API's reference, rendered here from the OpenAPI document (no script, no CDN)."""
    return render_template("api/docs.html", document=document(), operations=reference.operations(document()),
                           schemas=reference.schemas(document()), kinds=problems.KINDS)
